# End-to-end: the fleet path, PowerShell remoting over SSH. An sshd of the test's own (Debian's openssh-server,
# which .ci/run installs) listens on 127.0.0.1 with a throwaway host key and user key and this pwsh as its
# "powershell" subsystem, all in a temporary directory; Invoke-Command runs the module there, one session and two
# at once, and the objects come back as Deserialized types that the module's views render.

BeforeDiscovery {
    $sshd = '/usr/sbin/sshd'
    $why = if (-not [IO.File]::Exists($sshd)) { "no $sshd (Debian's openssh-server; .ci/run installs it)" }
    elseif (-not (Get-Command ssh-keygen -ErrorAction Ignore)) { 'no ssh-keygen' }
    elseif ([Environment]::UserName -ne 'root') { 'the test logs in over SSH as the user running it, with a key it makes; it needs root to run sshd' }
    if ($why) { Write-Host "Remoting tests skipped: $why." }
}

Describe 'PowerShell remoting over SSH' -Skip:([bool] $why) -ForEach @{ Sshd = $sshd } {
    BeforeAll {
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
        Import-EpollTools
        $fdBaseline = Get-ModuleKindFd
        $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
        $dir = New-WorkDirectory
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'LoopbackSshd.psm1'))
        $server = Start-LoopbackSshd $dir $Sshd
        $connection = $server.Connection
        $sessions = @('first', 'second' | ForEach-Object { New-PSSession @connection -Name $_ })
        Invoke-Command -Session $sessions { param($m) Import-Module $m } -ArgumentList $manifest
    }

    AfterAll {
        try {
            $sessions | Remove-PSSession
            Stop-LoopbackSshd $server.Process
            [IO.Directory]::Delete($dir, $true)
        }
        finally { Assert-NoFdLeak $fdBaseline }
    }

    It 'runs Get-EpollInterest -All on the other side and brings the rows back as Deserialized objects' {
        $rows = @(Invoke-Command -Session $sessions[0] { Get-EpollInterest -All -WarningAction SilentlyContinue })
        $rows.Count | Should -BeGreaterThan 0
        $rows[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.EpollTools.Core.Proc.EpollInterest'
        @($rows.PSComputerName | Sort-Object -Unique) | Should -Be '127.0.0.1'
    }

    It 'brings back exact values: a registration made on the other side, read there' {
        $row = Invoke-Command -Session $sessions[0] {
            $ep = New-EpollInstance
            $efd = New-EventFd -InitialValue 3
            Add-EpollFd -Instance $ep -Fd $efd -Events In, ET -Data 0x51
            # One look (no thread waits on this instance, so a second look would confirm nothing): what crosses
            # the wire is the point here.
            Get-EpollInterest -EpollFd $ep.Fd -Readiness -SettleInterval 0
            Close-EpollInstance $ep; Close-Fd $efd
        }
        $remotePid = Invoke-Command -Session $sessions[0] { $PID }
        $row.ProcessId | Should -Be $remotePid
        $row.ProcessId | Should -Not -Be $PID
        $row.RequestedFlags | Should -Be 'IN|ET'
        $row.DataHex | Should -Be '0x51'
        [string] $row.TargetKind | Should -Be 'EventFd'
        $row.Target | Should -Match '^eventfd count=3'
        $row.Ready | Should -Be 'IN|OUT'
        "$($row.Diagnoses)" | Should -Be 'edge-triggered, IN ready now'
    }

    It 'renders what comes back through the module''s views' {
        $waits = Invoke-Command -Session $sessions[0] {
            $ep = New-EpollInstance
            $efd = New-EventFd
            Add-EpollFd -Instance $ep -Fd $efd -Events In
            Get-EpollInterest -EpollFd $ep.Fd
            Close-EpollInstance $ep; Close-Fd $efd
        }
        $remotePid = Invoke-Command -Session $sessions[0] { $PID }
        $text = $waits | Out-String -Width 120
        $text | Should -Match "Process: $remotePid \(dotnet\)  epoll fd \d+"
        $text | Should -Match '(?m)^\s+Tfd Requested\s+Data Target'
        $text | Should -Match 'eventfd count=0'
    }

    It 'fans out to two sessions at once, each answering for its own host process' {
        $answers = @(Invoke-Command -Session $sessions { [pscustomobject]@{ Pid = $PID; Waits = @(Get-MultiplexerWait -Id $PID).Count } })
        $answers | Should -HaveCount 2
        @($answers.Pid | Sort-Object -Unique) | Should -HaveCount 2
        @($answers.PSComputerName | Sort-Object -Unique) | Should -Be '127.0.0.1'
        foreach ($answer in $answers) { $answer.Waits | Should -BeGreaterThan 0 -Because 'the remote pwsh waits in epoll_wait and poll' }
    }

    It 'reports a process that is not there as an error on this side, with its id and category' {
        $null = Invoke-Command -Session $sessions[0] { Get-EpollInterest -Id 999999999 } -ErrorVariable remoteErrors -ErrorAction SilentlyContinue
        $remoteErrors | Should -HaveCount 1
        $remoteErrors[0].FullyQualifiedErrorId | Should -Be 'NoProcessFoundForGivenId,EpollTools.Commands.GetEpollInterestCommand'
        [string] $remoteErrors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}
