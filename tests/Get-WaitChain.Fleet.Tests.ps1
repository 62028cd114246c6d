# End-to-end: wait chains across hosts. Two simulated hosts (sshds in PID, mount and UTS namespaces of their own on
# 127.0.0.20, "fleet-a", and 127.0.0.21, "fleet-b"; see tests/LoopbackSshd.psm1) run tests/fixtures/tcp-peers.c: on
# fleet-a a reader waits on a TCP connection to a relay on fleet-b, which waits on a pipe whose only writer is
# stopped; and one process on each host reads a connection only the other could write (a deadlock across hosts).
# Get-WaitChain runs on fleet-a, where fleet-b's processes are not in /proc, with a session to fleet-b.

BeforeDiscovery {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'LoopbackSshd.psm1'))
    $why = Get-SimulatedHostObstacle
    if ($why) { Write-Host "Cross-host wait chain tests skipped: $why." }
}

Describe 'Get-WaitChain across two hosts' -Skip:([bool] $why) {
    BeforeAll {
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'LoopbackSshd.psm1'))
        Import-EpollTools
        $fdBaseline = Get-ModuleKindFd
        $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
        $dir = New-WorkDirectory
        $peersExe = Build-Fixture 'tcp-peers' $dir
        $userKey = New-LoopbackUserKey $dir
        $a = '127.0.0.20'; $b = '127.0.0.21'
        $sshPort, $relayPort, $cycleA, $cycleB = @(1..4 | ForEach-Object { Get-FreeLoopbackPort $a, $b } | Select-Object -Unique)
        $hostB = Start-LoopbackSshd -Directory ([IO.Directory]::CreateDirectory("$dir/b").FullName) -Address $b -Port $sshPort -UserKey $userKey -OwnPidNamespace -ComputerName fleet-b -Fixture @(
            , @($peersExe, 'relay', $b, $relayPort)
            , @($peersExe, 'cycle', $b, $cycleB, $a, $cycleA))
        $hostA = Start-LoopbackSshd -Directory ([IO.Directory]::CreateDirectory("$dir/a").FullName) -Address $a -Port $sshPort -UserKey $userKey -OwnPidNamespace -ComputerName fleet-a -Fixture @(
            , @($peersExe, 'reader', $a, $b, $relayPort)
            , @($peersExe, 'cycle', $a, $cycleA, $b, $cycleB))
        $relay, $cycleOnB = $hostB.Fixtures
        $reader, $cycleOnA = $hostA.Fixtures

        $options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
        $sessionA = New-PSSession -HostName $a -Port $sshPort -UserName root -KeyFilePath $userKey -Options $options
        # On fleet-a, the module and a session to fleet-b, kept in that session's global scope.
        Invoke-Command -Session $sessionA {
            param($Manifest, $B, $Port, $Key, $Options)
            Import-Module $Manifest
            $global:toB = New-PSSession -HostName $B -Port $Port -UserName root -KeyFilePath $Key -Options $Options
            Invoke-Command -Session $global:toB { param($m) Import-Module $m } -ArgumentList $Manifest
        } -ArgumentList $manifest, $b, $sshPort, $userKey, $options

        # The connections are made after each host is up: wait until both waits are in place.
        $settled = Wait-Until {
            $ends = Invoke-Command -Session $sessionA { param($ids) @(Get-WaitChain -Id $ids -Session $global:toB | ForEach-Object End) } -ArgumentList (, @($reader.pid, $cycleOnA.pid))
            ($ends -join ',') -eq 'Continues,Stopped,Continues,Cycle'
        } -LimitMs 20000
        if (-not $settled) { throw 'The cross-host shapes did not settle within 20 s.' }
    }

    AfterAll {
        try {
            if ($sessionA) { Invoke-Command -Session $sessionA { Remove-PSSession $global:toB }; Remove-PSSession $sessionA }
            foreach ($server in $hostA, $hostB) { if ($server) { Stop-LoopbackSshd $server.Process } }
            [IO.Directory]::Delete($dir, $true)
        }
        finally { Assert-NoFdLeak $fdBaseline }
    }

    It 'without a session, ends at the peer that fleet-a cannot see, with both addresses' {
        $link = Invoke-Command -Session $sessionA { param($id) Get-WaitChain -Id $id } -ArgumentList $reader.pid
        $link.ComputerName | Should -Be 'fleet-a'
        $link.ProcessId | Should -Be $reader.pid
        $link.Call | Should -Be 'read'
        [string] $link.End | Should -Be 'OutsideHost'
        $link.PeerEndPoint | Should -Be "${b}:$relayPort"
        $link.LocalEndPoint | Should -Match "^$([regex]::Escape($a)):\d+$"
        $link.Detail | Should -Match 'held by no process visible here'
        $link.HolderProcessId | Should -BeNullOrEmpty
    }

    It 'with a session to fleet-b, goes on there: the relay, then its pipe whose writer is stopped' {
        $links = @(Invoke-Command -Session $sessionA { param($id) Get-WaitChain -Id $id -Session $global:toB } -ArgumentList $reader.pid)
        $links | Should -HaveCount 2
        $links[0].Depth | Should -Be 0
        $links[0].ComputerName | Should -Be 'fleet-a'
        $links[0].ProcessId | Should -Be $reader.pid
        $links[0].HolderComputerName | Should -Be 'fleet-b'
        $links[0].HolderProcessId | Should -Be $relay.pid
        $links[0].HolderEnd | Should -Be 'peer socket'
        [string] $links[0].End | Should -Be 'Continues'

        $links[1].Depth | Should -Be 1
        $links[1].ComputerName | Should -Be 'fleet-b'
        $links[1].ProcessId | Should -Be $relay.pid
        $links[1].Call | Should -Be 'read'
        $links[1].Fd | Should -Be $relay.pipe_read
        $links[1].HolderComputerName | Should -Be 'fleet-b'
        $links[1].HolderProcessId | Should -Be $relay.writer
        [string] $links[1].End | Should -Be 'Stopped'
    }

    It 'finds the deadlock that spans the two hosts, and names each member with its host' {
        $links = @(Invoke-Command -Session $sessionA { param($id) Get-WaitChain -Id $id -Session $global:toB } -ArgumentList $cycleOnA.pid)
        $links | Should -HaveCount 2
        $links[0].HolderComputerName | Should -Be 'fleet-b'
        $links[0].HolderProcessId | Should -Be $cycleOnB.pid
        $links[1].ComputerName | Should -Be 'fleet-b'
        $links[1].HolderComputerName | Should -Be 'fleet-a'
        $links[1].HolderProcessId | Should -Be $cycleOnA.pid
        [string] $links[1].End | Should -Be 'Cycle'
        $links[1].Detail | Should -Match 'deadlock of 2 processes across hosts \(fleet-a:\d+ -> fleet-b:\d+\)'

        $deadlock = Invoke-Command -Session $sessionA { param($id) Get-WaitChain -Id $id -Session $global:toB -Deadlock } -ArgumentList $cycleOnA.pid
        @($deadlock) | Should -HaveCount 1
        @($deadlock.ProcessIds) | Should -Be @($cycleOnA.pid, $cycleOnB.pid)
        @($deadlock.ComputerNames) | Should -Be @('fleet-a', 'fleet-b')
        @($deadlock.Members)[0] | Should -BeLike "fleet-a: $($cycleOnA.pid) (tcp-peers) thread $($cycleOnA.pid) waits on fd *, whose other end fleet-b: $($cycleOnB.pid) holds as fd *"
        @($deadlock.Members)[1] | Should -BeLike "fleet-b: $($cycleOnB.pid) (tcp-peers) thread $($cycleOnB.pid) waits on fd *, whose other end fleet-a: $($cycleOnA.pid) holds as fd *"
    }

    It 'reads at 80 columns with each host named where the chain crosses, and draws both hosts'' processes apart' {
        $links, $text, $dot = Invoke-Command -Session $sessionA {
            param($r, $c)
            $links = Get-WaitChain -Id $r -Session $global:toB
            , $links
            $links | Out-String -Width 80
            Get-WaitChain -Id $r, $c -Session $global:toB -AsDot
        } -ArgumentList $reader.pid, $cycleOnA.pid
        $lines = $text -split "`n" | ForEach-Object TrimEnd
        $lines | Where-Object Length -gt 80 | Should -BeNullOrEmpty
        # Under the reader's call, its holder's host before the holder's fd; under the relay's call, its host.
        $lines -match "^ {8}read {18}fleet-b: fd $($links[0].HolderFd) +read$" | Should -HaveCount 1
        $lines | Should -Contain '          on fleet-b                              it holds moves until SIGCONT'

        # The same pids on two hosts are two nodes; the cycle's two edges are red.
        $svg = $dot | & dot -Tsvg | Out-String
        $LASTEXITCODE | Should -Be 0
        foreach ($node in "fleet-a $($reader.pid) tcp-peers", "fleet-b $($relay.pid) tcp-peers", "fleet-b $($relay.writer) tcp-peers", "fleet-a $($cycleOnA.pid) tcp-peers", "fleet-b $($cycleOnB.pid) tcp-peers") {
            # dot writes a hyphen as &#45;.
            $hostName, $pidText, $name = $node.Replace('-', '&#45;').Split(' ')
            $svg | Should -Match "<text[^>]*>$hostName</text>\s*<text[^>]*>$pidText $name</text>" -Because "$node is a node"
        }
        ([regex]::Matches($dot, '\bcolor=red')).Count | Should -Be 2
    }

    It 'starts from a connection on the host that holds it: the holder, then its links' {
        $first = Invoke-Command -Session $sessionA { param($id) Get-WaitChain -Id $id } -ArgumentList $reader.pid
        $answer = @(Invoke-Command -Session $sessionA {
                param($local, $remote) Invoke-Command -Session $global:toB { param($l, $r) Get-WaitChain -LocalEndPoint $l -RemoteEndPoint $r } -ArgumentList $local, $remote
            } -ArgumentList $first.PeerEndPoint, $first.LocalEndPoint)
        $answer | Should -HaveCount 2
        $answer[0].PSObject.TypeNames -match 'ConnectionHolder$' | Should -Not -BeNullOrEmpty
        $answer[0].ComputerName | Should -Be 'fleet-b'
        $answer[0].ProcessId | Should -Be $relay.pid
        [string] $answer[0].End | Should -Be 'Continues'
        $answer[1].ProcessId | Should -Be $relay.pid
        [string] $answer[1].End | Should -Be 'Stopped'
    }

    It 'refuses an end point that is not an address and port' {
        $failed = $null
        try { Get-WaitChain -LocalEndPoint 'fleet-b' -RemoteEndPoint '127.0.0.1:80' } catch { $failed = $_ }
        $failed.FullyQualifiedErrorId | Should -Be 'InvalidEndPoint,EpollTools.Commands.GetWaitChainCommand'
        [string] $failed.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failed.TargetObject | Should -Be 'fleet-b'
        $failed.ErrorDetails.RecommendedAction | Should -Match 'address:port'
    }
}
