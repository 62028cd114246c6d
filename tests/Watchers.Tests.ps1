# End-to-end: "who watches this?" -- Get-EpollInterest -Target / -TargetPort finds every epoll instance that
# registers a file, named by port, pid:fd, inode, path or object, on real processes (examples/stuck-shapes.c and
# tests/fixtures/epoll-fixture.c), with the threads waiting on each instance.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $shapesExe = Build-Fixture 'stuck-shapes' $workDir
    $mix = Start-Fixture $shapesExe 'exclusive-mix'
    $herd = Start-Fixture $shapesExe 'herd'
    $oneshot = Start-Fixture $shapesExe 'oneshot'
    $closedFd = Start-Fixture $shapesExe 'closed-fd'
    $unixPath = [IO.Path]::Combine($workDir, 'fixture.sock')
    $fx = Start-Fixture (Build-Fixture 'epoll-fixture' $workDir) $unixPath

    # The threads of a process that wait on each of its epoll fds, as Get-MultiplexerWait sees them.
    function Get-Waiters([int] $ProcessId, [int] $EpollFd) {
        @(Get-MultiplexerWait -Id $ProcessId | Where-Object EpollFd -eq $EpollFd | ForEach-Object ThreadId | Sort-Object)
    }

    function Find-Watcher { Get-EpollInterest @args -WarningAction SilentlyContinue }
}

AfterAll {
    try {
        foreach ($fixture in $mix, $herd, $oneshot, $closedFd, $fx) { Stop-Helper $fixture.Process }
        [IO.Directory]::Delete($workDir, $true)
    }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Get-EpollInterest -TargetPort, counted' {
    BeforeAll {
        # A server in this process: a listener and 40 accepted connections in one instance, a quarter one-shot, the
        # rest edge-triggered; 8 clients sent 10 bytes each, a wait then fired 2 of the one-shots; one more client
        # waits in the accept queue.
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = $listener.LocalEndpoint.Port
        $server = New-EpollInstance
        Add-EpollFd $server $listener.Server In
        $clients = [Collections.Generic.List[object]]::new()
        $accepted = [Collections.Generic.List[object]]::new()
        for ($i = 0; $i -lt 40; $i++) {
            $client = [Net.Sockets.TcpClient]::new()
            $client.Connect([Net.IPAddress]::Loopback, $port)
            $clients.Add($client)
            $socket = $listener.AcceptSocket()
            $accepted.Add($socket)
            Add-EpollFd $server $socket $(if ($i % 4) { 'IN|ET' } else { 'IN|ONESHOT' })
        }
        for ($i = 0; $i -lt 8; $i++) { $null = $clients[$i].Client.Send([byte[]](1..10)) }
        Wait-Until { @(Wait-Epoll $server -Timeout 0 -MaxEvents 64).Count -gt 0 } | Should -BeTrue
        $waiting = [Net.Sockets.TcpClient]::new()
        $waiting.Connect([Net.IPAddress]::Loopback, $port)
    }

    AfterAll {
        Close-EpollInstance $server
        foreach ($socket in @($clients) + @($accepted) + $waiting) { $socket.Dispose() }
        $listener.Stop()
    }

    It 'gives one object for the instance: the listener, the connections by state, the queues, the fired one-shots' {
        $watch = @(Get-EpollInterest -Id $PID -TargetPort $port)
        $watch | Should -HaveCount 1
        $watch[0].PSObject.TypeNames[0] | Should -Be 'EpollTools.Core.Proc.PortWatch'
        $watch[0].Port | Should -Be $port
        $watch[0].EpollFd | Should -Be $server.Fd
        $watch[0].Listening | Should -Be 1
        $watch[0].Connections | Should -Be 40
        $watch[0].States | Should -Be 'ESTABLISHED 40'
        $watch[0].NotYetAccepted | Should -Be 1
        $watch[0].BytesUnread | Should -Be 80
        $watch[0].RequestedFlags | Should -Be 'IN|ET 30, IN|ONESHOT 8, ONESHOT 2, IN 1'
        $watch[0].Diagnoses | Should -HaveCount 1
        $watch[0].Diagnoses[0].Kind | Should -Be 'OneShotDisarmed'
        $fired = @($accepted[0], $accepted[4] | ForEach-Object { [int] $_.Handle } | Sort-Object)
        $watch[0].Diagnoses[0].Summary | Should -Be "2 of 41 sockets: one-shot fired, not re-armed (fd $($fired -join ', '))"
    }

    It 'counts what ss counts on the same sockets' {
        # ss -tn: one line per connection of the port's local side, Recv-Q first; the one in the accept queue is
        # established too (no fd has it yet, so no instance registers it).
        $ssLines = @(& ss -Htn state established "( sport = :$port )")
        $ssLines | Should -HaveCount 41
        $queued = ($ssLines | ForEach-Object { [long] (-split $_)[0] } | Measure-Object -Sum).Sum
        (Get-EpollInterest -Id $PID -TargetPort $port).BytesUnread | Should -Be $queued
    }

    It 'gives a row per socket with -PerConnection' {
        $rows = @(Get-EpollInterest -Id $PID -TargetPort $port -PerConnection)
        $rows | Should -HaveCount 41
        $rows[0].PSObject.TypeNames[0] | Should -Be 'EpollTools.Core.Proc.EpollInterest#Watcher'
    }

    It 'renders in 80 columns, the fired one-shots under the counts, also after serialization' {
        $watch = Get-EpollInterest -Id $PID -TargetPort $port
        foreach ($object in $watch, [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($watch))) {
            $lines = @(($object | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd)
            $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
            $lines | Where-Object { $_ -match '^\s*Port\s' } | Should -Match '^\s*Port\s+Pid\s+Process\s+EpollFd\s+Listen\s+Conns\s+Sockets$'
            @($lines | Where-Object { $_ -match "^\s*$port\s+$PID\s+\S+\s+$($server.Fd)\s+1\s+40 ESTABLISHED 40$" }) | Should -HaveCount 1
            $lines | Should -Contain ((' ' * 48) + '1 not yet accepted')
            $lines | Should -Contain ((' ' * 48) + '80 bytes unread')
            @($lines | Where-Object { $_ -match '^\s+! 2 of 41 sockets: one-shot$' }) | Should -HaveCount 1
        }
    }
}

Describe 'Get-EpollInterest -TargetPort -PerConnection' {
    It 'finds every instance on the host that registers the listening socket, with its mask and its waiting thread' {
        $rows = @(Find-Watcher -PerConnection -TargetPort $mix.port)
        $rows | Should -HaveCount 3
        foreach ($row in $rows) {
            $row.ProcessId | Should -Be $mix.pid
            $row.TargetFd | Should -Be $mix.listener
            $row.Target | Should -Be "TCP 127.0.0.1:$($mix.port) LISTEN"
            @($row.WaitingThreadIds) | Should -Be @(Get-Waiters $mix.pid $row.EpollFd)
            @($row.WaitingThreadIds) | Should -HaveCount 1
        }

        $byFd = @{}
        foreach ($row in $rows) { $byFd[$row.EpollFd] = $row.RequestedFlags }
        $byFd[$mix.epoll_exclusive_1] | Should -Be 'IN|EXCLUSIVE'
        $byFd[$mix.epoll_exclusive_2] | Should -Be 'IN|EXCLUSIVE'
        $byFd[$mix.epoll_plain] | Should -Be 'IN'
    }

    It 'lists every thread that waits on a shared instance' {
        $row = Find-Watcher -PerConnection -TargetPort $herd.port
        $row.EpollFd | Should -Be $herd.epoll
        @($row.WaitingThreadIds | Sort-Object) | Should -Be @(Get-Waiters $herd.pid $herd.epoll)
        @($row.WaitingThreadIds) | Should -HaveCount 3
    }

    It 'takes several ports, and searches only the processes named when -Id is given' {
        @(Find-Watcher -PerConnection -TargetPort $mix.port, $herd.port) | Should -HaveCount 4
        @(Get-EpollInterest -Id $herd.pid -PerConnection -TargetPort $mix.port -ErrorVariable said -ErrorAction SilentlyContinue) | Should -HaveCount 0
        $said[0].FullyQualifiedErrorId | Should -Be 'TargetNotWatched,EpollTools.Commands.GetEpollInterestCommand'
        $said[0].Exception.Message | Should -Be "No epoll instance of the processes read watches a TCP or UDP socket on local port $($mix.port)."
        @(Get-EpollInterest -Id $herd.pid -PerConnection -TargetPort $mix.port, $herd.port -ErrorVariable said -ErrorAction SilentlyContinue) | Should -HaveCount 1
        @($said.FullyQualifiedErrorId) | Should -Be @('TargetNotWatched,EpollTools.Commands.GetEpollInterestCommand')
    }

    It 'matches the local port only: the client end of a connection to the port is not a watcher of it' {
        # epoll-fixture registers its listener (in two instances) and the accepted end; the client end is not registered.
        $rows = @(Find-Watcher -PerConnection -TargetPort $fx.tcp_port)
        @($rows.TargetFd | Sort-Object) | Should -Be @($fx.accepted, $fx.listener, $fx.listener | Sort-Object)
        @(Get-EpollInterest -PerConnection -TargetPort $fx.client_port -ErrorVariable said -ErrorAction SilentlyContinue -WarningAction SilentlyContinue) | Should -HaveCount 0
        $said[0].FullyQualifiedErrorId | Should -Be 'TargetNotWatched,EpollTools.Commands.GetEpollInterestCommand'
    }

    It 'renders one group per file, a row per instance, the waiting threads and each diagnosis, in 80 columns' {
        $lines = @((Find-Watcher -PerConnection -TargetPort $mix.port | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd)
        $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
        $lines | Should -Contain "   Watched: TCP 127.0.0.1:$($mix.port) LISTEN"
        $lines | Where-Object { $_ -match '^\s*Pid\s' } | Should -Match '^\s*Pid\s+Process\s+EpollFd\s+Tfd\s+Requested\s+Waiting$'
        $exclusiveTid = Get-Waiters $mix.pid $mix.epoll_exclusive_1
        $lines -match "^\s+$($mix.pid) stuck-shap\u2026\s+$($mix.epoll_exclusive_1)\s+$($mix.listener) IN\|EXCLUSIVE\s+tid $exclusiveTid$" | Should -HaveCount 1
        @($lines | Where-Object { $_ -match '^\s+! 3 instances, 2 EXCLUSIVE$' }) | Should -HaveCount 3

        # The same view for the objects as they come back from remoting.
        $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize(@(Find-Watcher -PerConnection -TargetPort $mix.port)))
        $copy[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.EpollTools.Core.Proc.EpollInterest#Watcher'
        $copied = @(($copy | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd)
        $copied | Should -Contain "   Watched: TCP 127.0.0.1:$($mix.port) LISTEN"
        @($copied | Where-Object { $_ -match '^\s+! 3 instances, 2 EXCLUSIVE$' }) | Should -HaveCount 3
    }
}

Describe 'Get-EpollInterest -Target' {
    It 'takes pid:fd, and tells one eventfd from every other on the host (they share one inode)' {
        $row = Find-Watcher -Target "$($oneshot.pid):$($oneshot.eventfd)"
        $row.ProcessId | Should -Be $oneshot.pid
        $row.TargetFd | Should -Be $oneshot.eventfd
        $row.Diagnoses.Kind | Should -Be 'OneShotDisarmed'
        @($row.WaitingThreadIds) | Should -Be @(Get-Waiters $oneshot.pid $oneshot.epoll)
    }

    It 'takes socket:[inode] and pipe:[inode] as /proc links show them' {
        $listenerLink = (Get-FdInfo -Id $fx.pid | Where-Object Fd -eq $fx.listener).Link
        $listenerLink | Should -Match '^socket:\[\d+\]$'
        $rows = @(Find-Watcher -Target $listenerLink)
        $rows | Should -HaveCount 2   # the fixture's own instance, and the one it shares with its child
        @($rows.EpollFd | Sort-Object) | Should -Be @($fx.epoll, $fx.shared_epoll | Sort-Object)

        # A pipe's inode names the pipe: its read end here, and its write end that the child registered in the shared instance.
        $pipeLink = (Get-FdInfo -Id $fx.pid | Where-Object Fd -eq $fx.pipe_read).Link
        $pipes = @(Find-Watcher -Target $pipeLink)
        @($pipes | ForEach-Object { '{0}:{1}' -f $_.EpollFd, $_.TargetFd } | Sort-Object) | Should -Be @("$($fx.epoll):$($fx.pipe_read)", "$($fx.shared_epoll):$($fx.pipe_write)" | Sort-Object)
        $pipes.TargetKind | Should -Be 'Pipe', 'Pipe'
    }

    It 'takes pid:fd as that one open file: a pipe''s read end is not its write end' {
        $read = @(Find-Watcher -Target "$($fx.pid):$($fx.pipe_read)")
        $read | Should -HaveCount 1
        $read[0].EpollFd | Should -Be $fx.epoll
        $write = @(Find-Watcher -Target "$($fx.child):$($fx.pipe_write)")
        $write | Should -HaveCount 1
        $write[0].EpollFd | Should -Be $fx.shared_epoll
        $write[0].TargetProcessId | Should -Be $fx.child
    }

    It 'takes a path: a FIFO by its inode and device, a unix socket by the path it is bound to, relative or absolute' {
        $fifo = Find-Watcher -Target "$unixPath.fifo"
        $fifo.ProcessId | Should -Be $fx.pid
        $fifo.TargetFd | Should -Be $fx.fifo

        $unix = Find-Watcher -Target $unixPath
        $unix.TargetFd | Should -Be $fx.unix_listener
        $unix.RequestedFlags | Should -Be 'IN|EXCLUSIVE'

        Push-Location $workDir
        try { (Find-Watcher -Target 'fixture.sock.fifo').TargetFd | Should -Be $fx.fifo }
        finally { Pop-Location }
    }

    It 'takes Get-FdInfo rows (also deserialized), the module''s fd objects, and EpollInterest rows' {
        $fdRow = Get-FdInfo -Id $oneshot.pid | Where-Object Fd -eq $oneshot.eventfd
        (Find-Watcher -Target $fdRow).EpollFd | Should -Be $oneshot.epoll
        $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($fdRow))
        (Find-Watcher -Target $copy).EpollFd | Should -Be $oneshot.epoll

        $ep = New-EpollInstance
        $efd = New-EventFd
        try {
            Add-EpollFd -Instance $ep -Fd $efd -Events In, ET
            $row = Find-Watcher -Target $efd
            $row.ProcessId | Should -Be $PID
            $row.EpollFd | Should -Be $ep.Fd
            $row.WaitingThreadIds | Should -HaveCount 0
        }
        finally { $ep.Dispose(); $efd.Dispose() }

        # A stale row names its file through the fd that still holds it.
        $stale = Get-EpollInterest -Id $closedFd.pid
        $stale.State | Should -Be 'Stale'
        $again = Find-Watcher -Target $stale
        $again.EpollFd | Should -Be $closedFd.epoll
        $again.StillOpenAs | Should -Be $closedFd.eventfd
    }

    It 'says what is wrong with each target that names no file, and goes on with the others' {
        $rows = @(Get-EpollInterest -Target 'nope', 42, '/nonexistent/path', "$($herd.pid):999", "$($herd.pid):$($herd.listener)" -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $rows | Should -HaveCount 1
        $rows[0].EpollFd | Should -Be $herd.epoll
        @($problems.FullyQualifiedErrorId) | Should -Be @(
            'InvalidTarget,EpollTools.Commands.GetEpollInterestCommand',
            'InvalidTarget,EpollTools.Commands.GetEpollInterestCommand',
            'TargetNotFound,EpollTools.Commands.GetEpollInterestCommand',
            'TargetNotFound,EpollTools.Commands.GetEpollInterestCommand')
        @($problems.CategoryInfo.Category) | Should -Be @('InvalidArgument', 'InvalidArgument', 'ObjectNotFound', 'ObjectNotFound')
        $problems[0].TargetObject | Should -Be 'nope'
        $problems[1].ErrorDetails.RecommendedAction | Should -Match '-TargetPort'
        $problems[3].ErrorDetails.Message | Should -Be "Process $($herd.pid) has no fd 999."
    }

    It 'refuses each malformed pid:fd, inode or object target as InvalidTarget, without ending the call' -ForEach @(
        @{ Target = '0:1'; Says = 'is not a pid:fd' }, @{ Target = '-1:3'; Says = 'is not a pid:fd' }, @{ Target = '1:-3'; Says = 'is not a pid:fd' },
        @{ Target = '4294967296:1'; Says = 'is not a pid:fd' }, @{ Target = '1:2:3'; Says = 'does not name a file' },
        @{ Target = 'socket:[99999999999999999999999]'; Says = 'is not a socket:\[inode\]' }, @{ Target = 'pipe:[]'; Says = 'is not a pipe:\[inode\]' },
        @{ Target = 'zz:foo'; Says = 'does not name a file' },
        @{ Target = [pscustomobject]@{ ProcessId = 99999999999; Fd = 1 }; Says = 'ProcessId 99999999999 and Fd 1 do not name' },
        @{ Target = [pscustomobject]@{ ProcessId = 'abc'; Fd = 1 }; Says = 'ProcessId abc and Fd 1 do not name' }) {
        # SilentlyContinue must hold (a statement-terminating error would ignore it) and the valid target still answer.
        $rows = @(Get-EpollInterest -Target $Target, "$($herd.pid):$($herd.listener)" -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $rows | Should -HaveCount 1
        $rows[0].EpollFd | Should -Be $herd.epoll
        $problems | Should -HaveCount 1
        $problems[0].FullyQualifiedErrorId | Should -Be 'InvalidTarget,EpollTools.Commands.GetEpollInterestCommand'
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $problems[0].Exception.Message | Should -Match $Says
        $problems[0].ErrorDetails.RecommendedAction | Should -Match 'pid:fd'
    }

    It 'says a connection that no instance watches is watched by none, with who holds it and its unread bytes' {
        $connection = New-LoopbackConnection
        try {
            $null = $connection.Client.Send([byte[]]::new(25))
            $fd = $connection.ServerFd
            Wait-Until { (Get-FdInfo -Id $PID | Where-Object Fd -eq $fd).Target -match '25 bytes unread' } | Should -BeTrue
            $inode = ([IO.FileInfo]::new("/proc/self/fd/$fd")).LinkTarget

            foreach ($target in "$($PID):$fd", $inode) {
                $rows = @(Get-EpollInterest -Target $target -ErrorVariable said -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
                $rows | Should -HaveCount 0
                $said | Should -HaveCount 1
                $said[0].FullyQualifiedErrorId | Should -Be 'TargetNotWatched,EpollTools.Commands.GetEpollInterestCommand'
                $said[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
                $said[0].Exception.Message | Should -Match "^No epoll instance on this host watches .*: it is fd $fd of $PID \(.*\), TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ ESTABLISHED, 25 bytes unread, idle [^,]+, 25 B in, 0 B out, rtt [\d.]+ ms\.$"
            }
        }
        finally { $connection.Dispose() }
    }

    It 'lists nothing, rather than everything, when every target fails' {
        $rows = @(Get-EpollInterest -Target '/nonexistent/path' -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $rows | Should -HaveCount 0
        $problems | Should -HaveCount 1
        $gone = @(Get-EpollInterest -Target '999999999:3' -ErrorVariable missing -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $gone | Should -HaveCount 0
        $missing[0].FullyQualifiedErrorId | Should -Be 'NoProcessFoundForGivenId,EpollTools.Commands.GetEpollInterestCommand'
    }
}
