# End-to-end: sweeping a fleet. Eight hosts on this machine, each an sshd (this pwsh as its "powershell" subsystem) on
# its own loopback address (127.0.0.2 to 127.0.0.9), started in its own PID and mount namespace with its own stuck
# processes (examples/stuck-shapes.c) in a known shape and number, so each host's /proc shows different processes and
# each host's answer is asserted exactly. One New-PSSession opens them all; Invoke-Command sweeps them, a few at a
# time; a host taken down is that host's error while the others' answers arrive whole.

BeforeDiscovery {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'LoopbackSshd.psm1'))
    $why = Get-SimulatedHostObstacle
    if ($why) { Write-Host "Fleet tests skipped: $why." }
}

Describe 'A sweep of eight simulated hosts' -Skip:([bool] $why) {
    BeforeAll {
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'LoopbackSshd.psm1'))
        Import-EpollTools
        $fdBaseline = Get-ModuleKindFd
        $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
        $dir = New-WorkDirectory
        $shapesExe = Build-Fixture 'stuck-shapes' $dir
        $userKey = New-LoopbackUserKey $dir

        # Host k runs 1, 2 or 3 processes of one of four shapes, each with the diagnosis Get-EpollInterest gives it.
        $diagnosisOf = [ordered]@{ oneshot = 'OneShotDisarmed'; 'closed-fd' = 'ClosedFdRegistered'; 'writer-gone' = 'WritersGone'; 'readers-gone' = 'ReadersGone' }
        $shapeNames = @($diagnosisOf.Keys)
        $addresses = @(2..9 | ForEach-Object { "127.0.0.$_" })
        $port = Get-FreeLoopbackPort $addresses
        $fleet = [ordered]@{}
        for ($k = 0; $k -lt $addresses.Count; $k++) {
            $hostDir = [IO.Path]::Combine($dir, "host$k")
            $null = [IO.Directory]::CreateDirectory($hostDir)
            $shape = $shapeNames[$k % $shapeNames.Count]
            $fixtures = @(1..(1 + $k % 3) | ForEach-Object { , @($shapesExe, $shape) })
            $server = Start-LoopbackSshd -Directory $hostDir -Address $addresses[$k] -Port $port -UserKey $userKey -OwnPidNamespace -Fixture $fixtures
            $fleet[$addresses[$k]] = @{ Server = $server; Shape = $shape }
        }

        # The way docs/fleet.md says to do it: one New-PSSession for every host, then Invoke-Command on the sessions.
        $connection = @{ Port = $port; UserName = 'root'; KeyFilePath = $userKey; Options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } }
        $sessions = @(New-PSSession -HostName $addresses @connection)
        Invoke-Command -Session $sessions { param($m) Import-Module $m } -ArgumentList $manifest

        # What each host should answer, from its fixtures' own output: "pid fd diagnosis", pids as the host numbers them.
        function Get-ExpectedFinding([string] $Address) {
            $hostEntry = $fleet[$Address]
            $fdName = @{ oneshot = 'eventfd'; 'closed-fd' = 'closed'; 'writer-gone' = 'pipe_read'; 'readers-gone' = 'pipe_write' }[$hostEntry.Shape]
            @($hostEntry.Server.Fixtures | ForEach-Object { "$($_.pid) $($_[$fdName]) $($diagnosisOf[$hostEntry.Shape])" } | Sort-Object)
        }

        # What a host answered, in the same words.
        function Get-Finding([object[]] $Rows, [string] $Address) {
            @($Rows | Where-Object PSComputerName -eq $Address | ForEach-Object { "$($_.ProcessId) $($_.TargetFd) $($_.Kinds)" } | Sort-Object)
        }
    }

    AfterAll {
        try {
            $sessions | Remove-PSSession
            foreach ($hostEntry in $fleet.Values) { if (-not $hostEntry.Down) { Stop-LoopbackSshd $hostEntry.Server.Process } }
            [IO.Directory]::Delete($dir, $true)
        }
        finally { Assert-NoFdLeak $fdBaseline }
    }

    It 'opens one session a host, each in its own PID namespace' {
        $sessions | Should -HaveCount 8
        @($sessions | Where-Object State -eq Opened) | Should -HaveCount 8
        # Each host's first process is its sshd, and each numbers its processes from there: pids repeat across hosts.
        $firsts = Invoke-Command -Session $sessions { [IO.File]::ReadAllText('/proc/1/comm').Trim() }
        @($firsts | Sort-Object -Unique) | Should -Be @('sshd')
        @($fleet.Values | ForEach-Object { @($_.Server.Fixtures.pid | Sort-Object)[0] } | Sort-Object -Unique) | Should -HaveCount 1
    }

    It 'brings back each host''s findings exactly, and nothing of another host''s, three hosts at a time' {
        $rows = Invoke-Command -Session $sessions -ThrottleLimit 3 {
            # Diagnoses cross the wire as their summaries: their kinds are read here, on the far side.
            Get-EpollInterest -All -Readiness -WarningAction SilentlyContinue | Where-Object Diagnoses |
                Select-Object ProcessId, TargetFd, @{ Name = 'Kinds'; Expression = { $_.Diagnoses.Kind -join ',' } }
        }
        @($rows.PSComputerName | Sort-Object -Unique) | Should -Be $addresses
        foreach ($address in $addresses) {
            Get-Finding $rows $address | Should -Be (Get-ExpectedFinding $address) -Because "$address runs $($fleet[$address].Server.Fixtures.Count) x $($fleet[$address].Shape)"
        }
    }

    It 'sweeps the waits: each host''s stuck threads, numbered as that host numbers them' {
        $waits = Invoke-Command -Session $sessions { Get-MultiplexerWait -Name stuck-shapes }
        foreach ($address in $addresses) {
            $expected = @($fleet[$address].Server.Fixtures.pid | Sort-Object)
            @($waits | Where-Object PSComputerName -eq $address | ForEach-Object ProcessId | Sort-Object) | Should -Be $expected -Because $address
        }
    }

    It 'collects the metrics fleet-wide: each host''s exposition text, with its own stale registrations' {
        $texts = Invoke-Command -Session $sessions { [pscustomobject]@{ Text = (Export-EpollMetric) -join "`n" } }
        $texts | Should -HaveCount 8
        foreach ($answer in $texts) {
            $hostEntry = $fleet[$answer.PSComputerName]
            $stale = @($answer.Text -split "`n" | Where-Object { $_ -match '^epolltools_stale_registrations\{comm="stuck-shapes",' })
            $stale | Should -HaveCount $hostEntry.Server.Fixtures.Count -Because $answer.PSComputerName
            $expectedValue = if ($hostEntry.Shape -eq 'closed-fd') { ' 1' } else { ' 0' }
            $stale | ForEach-Object { $_ | Should -BeLike "*$expectedValue" }
        }
    }

    It 'reports a host that went down as its own error, and the other hosts'' answers arrive whole' {
        $down = $addresses[3]
        Stop-LoopbackSshd $fleet[$down].Server.Process
        $fleet[$down].Down = $true
        # Down before the sweep starts: a host that drops in the instant Invoke-Command dispatches can make the whole
        # call throw InvalidRunspaceStateException instead (docs/fleet.md says how to sweep around that).
        $downSession = $sessions | Where-Object ComputerName -eq $down
        Wait-Until { $downSession.State -ne 'Opened' } | Should -BeTrue
        $rows = Invoke-Command -Session $sessions -ThrottleLimit 3 -ErrorVariable sweepErrors -ErrorAction SilentlyContinue {
            Get-EpollInterest -All -Readiness -WarningAction SilentlyContinue | Where-Object Diagnoses |
                Select-Object ProcessId, TargetFd, @{ Name = 'Kinds'; Expression = { $_.Diagnoses.Kind -join ',' } }
        }
        $sweepErrors | Should -HaveCount 1
        $sweepErrors[0].TargetObject.ComputerName | Should -Be $down
        @($rows.PSComputerName | Sort-Object -Unique) | Should -Be @($addresses | Where-Object { $_ -ne $down })
        foreach ($address in $addresses | Where-Object { $_ -ne $down }) {
            Get-Finding $rows $address | Should -Be (Get-ExpectedFinding $address)
        }
    }
}
