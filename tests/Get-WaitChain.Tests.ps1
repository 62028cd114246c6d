# End-to-end: Get-WaitChain against processes that wait on each other in known shapes (examples/wait-chains.c, built
# here with gcc, one shape a run): each chain asserted link by link (pids, fds, the end reason).

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $chainsExe = Build-Fixture 'wait-chains' $workDir
    $shape = @{}
    foreach ($name in 'chain', 'deadlock', 'ring', 'writers-gone', 'self-held', 'eventfd', 'wakeup') {
        $shape[$name] = Start-Fixture $chainsExe $name
    }
}

AfterAll {
    try {
        foreach ($fixture in $shape.Values) { Stop-Helper $fixture.Process }
        [IO.Directory]::Delete($workDir, $true)
    }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Get-WaitChain' {
    It 'follows a pipe to its writer, a unix socket to its peer, a loopback TCP connection to its other side, to a stopped process' {
        $chain = $shape.chain
        $links = @(Get-WaitChain -Id $chain.reader)
        $links | Should -HaveCount 3

        $links[0].Depth | Should -Be 0
        $links[0].ProcessId | Should -Be $chain.reader
        $links[0].Call | Should -Be 'read'
        $links[0].Fd | Should -Be $chain.pipe_read
        $links[0].Waits | Should -Be 'input'
        $links[0].HolderProcessId | Should -Be $chain.middle
        $links[0].HolderFd | Should -Be $chain.pipe_write
        $links[0].HolderEnd | Should -Be 'write end'
        $links[0].End | Should -Be 'Continues'

        $links[1].Depth | Should -Be 1
        $links[1].ProcessId | Should -Be $chain.middle
        $links[1].Call | Should -Be 'recvfrom'
        $links[1].Fd | Should -Be $chain.socket
        $links[1].Target | Should -Match '^UNIX STREAM CONNECTED'
        $links[1].HolderProcessId | Should -Be $chain.relay
        $links[1].HolderFd | Should -Be $chain.peer
        $links[1].HolderEnd | Should -Be 'peer socket'
        $links[1].End | Should -Be 'Continues'

        $links[2].Depth | Should -Be 2
        $links[2].ProcessId | Should -Be $chain.relay
        $links[2].Fd | Should -Be $chain.tcp_client
        $links[2].Target | Should -Match '^TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ ESTABLISHED'
        $links[2].HolderProcessId | Should -Be $chain.last
        $links[2].HolderFd | Should -Be $chain.tcp_server
        $links[2].End | Should -Be 'Stopped'
        $links[2].Detail | Should -Match 'SIGCONT'
    }

    It 'reports two processes reading pipes only the other writes as one deadlock, with every member in order' {
        $d = $shape.deadlock
        $links = @(Get-WaitChain -Id $d.first)
        $links | Should -HaveCount 2
        $links[0].HolderProcessId | Should -Be $d.second
        $links[0].End | Should -Be 'Continues'
        $links[1].ProcessId | Should -Be $d.second
        $links[1].Fd | Should -Be $d.b_read
        $links[1].HolderProcessId | Should -Be $d.first
        $links[1].HolderFd | Should -Be $d.b_write
        $links[1].End | Should -Be 'Cycle'

        # The same cycle, met from either member, is one Deadlock.
        $deadlocks = @(Get-WaitChain -Id $d.first, $d.second -Deadlock)
        $deadlocks | Should -HaveCount 1
        @($deadlocks[0].ProcessIds) | Should -Be @($d.first, $d.second)
        $deadlocks[0].Members[0] | Should -Be "$($d.first) (first) thread $($d.first) waits on fd $($d.a_read), whose other end $($d.second) holds as fd $($d.a_write)"
        $deadlocks[0].Members[1] | Should -Be "$($d.second) (second) thread $($d.second) waits on fd $($d.b_read), whose other end $($d.first) holds as fd $($d.b_write)"
    }

    It 'reports three processes in a cycle through a pipe, a unix socket and a pipe as one deadlock of three' {
        $r = $shape.ring
        $links = @(Get-WaitChain -Id $r.one)
        $links | Should -HaveCount 3
        $links[0].HolderProcessId | Should -Be $r.two
        $links[0].HolderFd | Should -Be $r.p1_write
        $links[1].ProcessId | Should -Be $r.two
        $links[1].Call | Should -Be 'recvfrom'
        $links[1].Fd | Should -Be $r.socket
        $links[1].HolderProcessId | Should -Be $r.three
        $links[1].HolderFd | Should -Be $r.peer
        $links[1].HolderEnd | Should -Be 'peer socket'
        $links[2].ProcessId | Should -Be $r.three
        $links[2].Fd | Should -Be $r.p2_read
        $links[2].HolderProcessId | Should -Be $r.one
        $links[2].HolderFd | Should -Be $r.p2_write
        $links[2].End | Should -Be 'Cycle'
        $links[2].Detail | Should -Be "back to $($r.one): a deadlock of 3 processes ($($r.one) -> $($r.two) -> $($r.three))"

        # Asked from any member, or all three: the one cycle, in the order of the waits from where it was entered.
        $deadlocks = @(Get-WaitChain -Id $r.one, $r.two, $r.three -Deadlock)
        $deadlocks | Should -HaveCount 1
        @($deadlocks[0].ProcessIds) | Should -Be @($r.one, $r.two, $r.three)
        $deadlocks[0].Members[1] | Should -Be "$($r.two) (two) thread $($r.two) waits on fd $($r.socket), whose other end $($r.three) holds as fd $($r.peer)"
    }

    It 'ends at a pipe whose writers exited, under edge-triggering, with nobody to follow' {
        $link = Get-WaitChain -Id $shape.'writers-gone'.waiter
        $link.Call | Should -Be 'epoll_wait'
        $link.Fd | Should -Be $shape.'writers-gone'.pipe_read
        $link.HolderProcessId | Should -BeNullOrEmpty
        $link.End | Should -Be 'Gone'
        $link.Detail | Should -Match '^nobody holds the write end: .*HUP is ready \(edge-triggered'
    }

    It 'names a reader that holds its own write end as a cycle of one' {
        $s = $shape.'self-held'
        $link = Get-WaitChain -Id $s.waiter
        $link.HolderProcessId | Should -Be $s.waiter
        $link.HolderFd | Should -Be $s.pipe_write
        $link.End | Should -Be 'Cycle'
        @($link.CycleProcessIds) | Should -Be @($s.waiter)
    }

    It 'follows an eventfd to the other process that holds it (the same file, by kcmp)' {
        $e = $shape.eventfd
        $link = Get-WaitChain -Id $e.waiter
        $link.Call | Should -Be 'read'
        $link.Fd | Should -Be $e.eventfd
        $link.Target | Should -Match '^eventfd count=0'
        $link.HolderProcessId | Should -Be $e.signaller
        $link.HolderFd | Should -Be $e.eventfd
        $link.HolderEnd | Should -Be 'eventfd'
        $link.End | Should -Be 'BlockedElsewhere'
        $link.Detail | Should -Match 'nanosleep'
    }

    It 'takes an event loop at rest, waiting on its own wakeup pipe, for what it is: no cycle, no deadlock' {
        $w = $shape.wakeup
        $links = @(Get-WaitChain -Id $w.loop)
        $links | Should -HaveCount 2
        $pipe = $links | Where-Object Fd -eq $w.pipe_read
        $pipe.HolderProcessId | Should -Be $w.loop
        $pipe.HolderFd | Should -Be $w.pipe_write
        $pipe.End | Should -Be 'NotFollowed'
        $pipe.Detail | Should -Match 'wakeup pipe'
        ($links | Where-Object Fd -eq $w.listener).Detail | Should -Match '^a listening socket'
        Get-WaitChain -Id $w.loop -Deadlock | Should -BeNullOrEmpty
    }

    It 'ends a branch with Gone, not an error, when its holder exits while the chain is walked' {
        # Chains of their own, a holder killed between two links (links are written as they are found, so the
        # pipeline sees one before the walk reads the next holder).
        # Walks from the chain's reader, killing -Victim when the link at -AtDepth has come down the pipeline.
        function Get-ChainKilling($Chain, [int] $AtDepth, [int] $Victim, [int] $VictimFd) {
            $links = @(Get-WaitChain -Id $Chain.reader -ErrorVariable failed | ForEach-Object {
                    if ($_.Depth -eq $AtDepth) {
                        Stop-Process -Id $Victim -Force
                        Wait-Until { -not (Test-Path "/proc/$Victim/fd/$VictimFd") } | Should -BeTrue
                    }
                    $_
                })
            $failed | Should -BeNullOrEmpty
            , $links
        }

        $c = Start-Fixture $chainsExe 'chain'
        $c2 = Start-Fixture $chainsExe 'chain'
        try {
            $links = Get-ChainKilling $c -AtDepth 0 -Victim $c.relay -VictimFd $c.peer
            $links | Should -HaveCount 2
            $links[0].HolderProcessId | Should -Be $c.middle
            $links[0].End | Should -Be 'Continues'
            $links[1].ProcessId | Should -Be $c.middle
            # The relay held the unix socket's peer, whose table is read after the kill: the socket has no peer now.
            $links[1].Fd | Should -Be $c.socket
            $links[1].End | Should -Be 'Gone'
            $links[1].Detail | Should -BeLike 'UNIX STREAM whose peer is closed:*'

            # The last holder killed after the relay's link was written: the socket tables were read before, and
            # list its socket; the holder itself is found exited.
            $links = Get-ChainKilling $c2 -AtDepth 1 -Victim $c2.last -VictimFd $c2.tcp_server
            $links | Should -HaveCount 3
            $links[2].ProcessId | Should -Be $c2.relay
            $links[2].HolderProcessId | Should -Be $c2.last
            $links[2].End | Should -Be 'Gone'
            $links[2].Detail | Should -Be "$($c2.last) exited while the chain was read"
        }
        finally { Stop-Helper $c.Process; Stop-Helper $c2.Process }
    }

    It 'says Unreadable, not Gone, when the writer may be a process this user cannot read' -Skip:([Environment]::UserName -ne 'root' -or ([IO.File]::Exists('/proc/sys/kernel/yama/ptrace_scope') -and [IO.File]::ReadAllText('/proc/sys/kernel/yama/ptrace_scope').Trim() -ne '0')) {
        # cat runs as uid 65534 and reads a pipe whose only writer, sleep, runs as root; the chain is asked as 65534.
        $shell = [Diagnostics.Process]::Start('bash', [string[]] ('-c', 'sleep 1000 | setpriv --reuid=65534 --regid=65534 --clear-groups cat'))
        try {
            # As root, the writer is there to see (once cat blocks in its read).
            Wait-Until { ($script:cat = Get-Process cat -ErrorAction Ignore | Where-Object { $_.Parent.Id -eq $shell.Id }) -and
                (Get-WaitChain -Id $script:cat.Id -WarningAction SilentlyContinue).HolderName -eq 'sleep' } | Should -BeTrue
            $answer = Invoke-PwshAsNobody "Get-WaitChain -Id $($script:cat.Id) | ForEach-Object { `$_.End.ToString() + '|' + `$_.Detail }"
            $answer | Should -BeLike 'Unreadable|no process whose fds could be read holds the write end; one of those that could not may: *'
            # Those named are processes 65534 cannot read: none is its own, none a kernel thread (they hold no fds).
            $named = @([regex]::Matches("$answer", '(\d+) \(') | ForEach-Object { [int] $_.Groups[1].Value })
            $named.Count | Should -BeGreaterThan 0
            foreach ($pid_ in $named) {
                $status = Get-Content "/proc/$pid_/status" -ErrorAction Ignore
                if (-not $status) { continue } # exited since
                ($status -match '^Uid:')[0] | Should -Not -Match '^Uid:\s+65534\b' -Because "$pid_ is not 65534's own"
                # A kernel thread is kthreadd (2) or one of its children.
                $parent = ((Get-Content "/proc/$pid_/stat" -Raw) -replace '^.*\) \S+ ', '').Split(' ')[0]
                @($pid_, [int] $parent) | Should -Not -Contain 2 -Because "$pid_ is no kernel thread"
            }
            $answer | Should -Not -Match 'kthreadd'
        }
        finally {
            Get-Process sleep, cat -ErrorAction Ignore | Where-Object { $_.Parent.Id -eq $shell.Id } | Stop-Process -Force
            $shell.WaitForExit(); $shell.Dispose()
        }
    }

    It 'cuts a chain at -Depth' {
        $link = @(Get-WaitChain -Id $shape.chain.reader -Depth 1)
        $link | Should -HaveCount 1
        $link[0].End | Should -Be 'DepthLimit'
        $link[0].HolderProcessId | Should -Be $shape.chain.middle
    }

    It 'takes a thread from Get-MultiplexerWait by property name (ProcessId and ThreadId)' {
        $wait = Get-MultiplexerWait -Id $shape.'writers-gone'.waiter
        $link = $wait | Get-WaitChain
        $link.ThreadId | Should -Be $wait.ThreadId
        $link.End | Should -Be 'Gone'
    }

    It 'says so when the one process asked for waits on no fd, and lists nothing' {
        $links = @(Get-WaitChain -Id $shape.chain.last -WarningVariable warned -WarningAction SilentlyContinue)
        $links | Should -HaveCount 0
        "$warned" | Should -Match "$($shape.chain.last).*stopped"
    }

    It 'reports a process that is gone as an error naming it, and refuses a depth of 0' {
        $gone = Start-Process /bin/true -PassThru
        $gone.WaitForExit()
        Get-WaitChain -Id $gone.Id -ErrorVariable failed -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failed[0].FullyQualifiedErrorId | Should -Match '^NoProcessFoundForGivenId'
        $failed[0].TargetObject | Should -Be $gone.Id
        { Get-WaitChain -Id $PID -Depth 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,EpollTools.Commands.GetWaitChainCommand'
    }

    It 'reads at 80 columns as an indented chain, and survives serialization' {
        $text = Get-WaitChain -Id $shape.chain.reader | Out-String -Width 80
        foreach ($line in $text -split "`n") { $line.TrimEnd().Length | Should -BeLessOrEqual 79 }
        $text | Should -Match "(?m)^ *$($shape.chain.reader) reader +$($shape.chain.pipe_read) +$($shape.chain.middle) middle +Continues:"
        $text | Should -Match "(?m)^ +read +fd $($shape.chain.pipe_write) write end"
        $text | Should -Match "(?m)^  +$($shape.chain.middle) middle +$($shape.chain.socket) +$($shape.chain.relay) relay +Continues:"
        $text | Should -Match "(?m)^    +$($shape.chain.relay) relay +$($shape.chain.tcp_client) +$($shape.chain.last) last +Stopped:"

        $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize(@(Get-WaitChain -Id $shape.deadlock.first)))
        $copy[1].End | Should -Be 'Cycle'
        @($copy[1].CycleProcessIds) | Should -Be @($shape.deadlock.first, $shape.deadlock.second)
        ($copy | Out-String -Width 80) | Should -Match 'Cycle: back to'
    }

    It 'draws the chains as a graph that dot renders, every process a node and the deadlock in red' {
        $chain = $shape.chain
        $dot = Get-WaitChain -Id $chain.reader -AsDot
        $dot | Should -BeOfType [string]
        $svg = $dot | & dot -Tsvg | Out-String
        $LASTEXITCODE | Should -Be 0
        foreach ($process in 'reader', 'middle', 'relay', 'last') {
            $svg | Should -Match ([regex]::Escape("$($chain[$process]) $process"))
        }

        $svg | Should -Match 'Stopped'
        # dot writes "->" in a label as "&#45;&gt;".
        $svg | Should -Match "fd $($chain.tcp_client) input &#45;&gt; fd $($chain.tcp_server) peer socket"

        $d = $shape.deadlock
        $graph = Get-WaitChain -Id $d.first -AsDot
        $graph | Should -Match "p$($d.first) -> p$($d.second) \[label=""fd 3 input -> fd 4 write end"", color=red"
        $graph | Should -Match "p$($d.second) -> p$($d.first) \[label=""fd 5 input -> fd 6 write end"", color=red"
        ($graph | & dot -Tsvg | Out-String) | Should -Match ([regex]::Escape("$($d.second) second"))

        { Get-WaitChain -Id $d.first -AsDot -Deadlock } | Should -Throw -ErrorId 'AsDotWithDeadlock,EpollTools.Commands.GetWaitChainCommand'
    }
}
