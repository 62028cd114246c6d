# End-to-end: the diagnoses of Get-EpollInterest and Get-MultiplexerWait on real processes stuck in each shape
# (examples/stuck-shapes.c, built here with gcc, one process a shape), and none where nothing is wrong.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $shapesExe = Build-Fixture 'stuck-shapes' $workDir
    $shape = @{}
    foreach ($name in 'oneshot', 'edge', 'writer-gone', 'readers-gone', 'closed-fd', 'empty', 'herd', 'forked-herd', 'exclusive-mix', 'poll-socket', 'unwatched') {
        $shape[$name] = Start-Fixture $shapesExe $name
    }

    function Get-Kinds($Object) { @($Object.Diagnoses | ForEach-Object { [string] $_.Kind }) }
}

AfterAll {
    try {
        foreach ($fixture in $shape.Values) { Stop-Helper $fixture.Process }
        [IO.Directory]::Delete($workDir, $true)
    }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Registration diagnoses (Get-EpollInterest)' {
    It 'a one-shot that fired and was never re-armed: its events read back as the ONESHOT flag alone' {
        $row = Get-EpollInterest -Id $shape.oneshot.pid
        $row.TargetFd | Should -Be $shape.oneshot.eventfd
        $row.Events | Should -Be ([EpollTools.Core.EpollEvents]::OneShot)
        Get-Kinds $row | Should -Be @('OneShotDisarmed')
        $row.Diagnoses[0].Summary | Should -Be 'one-shot fired, not re-armed'
        $row.Diagnoses[0].Explanation | Should -Match 'EPOLL_CTL_MOD'

        # Readable again, but one-shot and level-triggered: no edge-triggered diagnosis.
        $ready = Get-EpollInterest -Id $shape.oneshot.pid -Readiness
        $ready.ReadyEvents.HasFlag([EpollTools.Core.EpollEvents]::In) | Should -BeTrue
        Get-Kinds $ready | Should -Be @('OneShotDisarmed')
    }

    It 'edge-triggered with data left unread: said only with -Readiness, from what is ready now' {
        Get-Kinds (Get-EpollInterest -Id $shape.edge.pid) | Should -BeNullOrEmpty
        $row = Get-EpollInterest -Id $shape.edge.pid -Readiness
        $row.TargetFd | Should -Be $shape.edge.socket
        $row.RequestedFlags | Should -Be 'IN|ET'
        $row.Ready | Should -Be 'IN|OUT'
        Get-Kinds $row | Should -Be @('EdgeTriggeredUnread')
        $row.Diagnoses[0].Summary | Should -Be 'edge-triggered, IN ready now'
        $row.Diagnoses[0].Explanation | Should -Match 'EAGAIN'

        # Reading readiness consumed nothing: the 90 bytes are still there the next time.
        (Get-EpollInterest -Id $shape.edge.pid -Readiness).Ready | Should -Be 'IN|OUT'
    }

    It 'a pipe whose writer exited: HUP is ready, though only IN was asked for' {
        $row = Get-EpollInterest -Id $shape.'writer-gone'.pid -Readiness
        $row.TargetFd | Should -Be $shape.'writer-gone'.pipe_read
        $row.RequestedFlags | Should -Be 'IN|ET'
        $row.ReadyEvents | Should -Be ([EpollTools.Core.EpollEvents]::Hup)
        Get-Kinds $row | Should -Be @('WritersGone')
        $row.Diagnoses[0].Summary | Should -Be "pipe's writers all closed (HUP)"
        Get-Kinds (Get-EpollInterest -Id $shape.'writer-gone'.pid) | Should -BeNullOrEmpty
    }

    It 'a pipe whose readers are gone: ERR is ready on the write end' {
        $row = Get-EpollInterest -Id $shape.'readers-gone'.pid -Readiness
        $row.TargetFd | Should -Be $shape.'readers-gone'.pipe_write
        $row.ReadyEvents | Should -Be ([EpollTools.Core.EpollEvents]'Out, Err')
        Get-Kinds $row | Should -Be @('ReadersGone')
    }

    It 'an fd closed without EPOLL_CTL_DEL while its file lives on: said plainly, with where it lives' {
        $row = Get-EpollInterest -Id $shape.'closed-fd'.pid
        $row.TargetFd | Should -Be $shape.'closed-fd'.closed
        $row.State | Should -Be 'Stale'
        $row.StillOpenAs | Should -Be $shape.'closed-fd'.eventfd
        Get-Kinds $row | Should -Be @('ClosedFdRegistered')
        $row.Diagnoses[0].Summary | Should -Be "fd $($shape.'closed-fd'.closed) closed, still registered"
        $row.Diagnoses[0].Explanation | Should -Match "as fd $($shape.'closed-fd'.eventfd) of this process"
        $row.Diagnoses[0].Explanation | Should -Match '0x5005'
    }

    It 'one listening socket in three instances, two EXCLUSIVE and one not: each registration says so' {
        $fx = $shape.'exclusive-mix'
        $rows = @(Get-EpollInterest -Id $fx.pid)
        $rows | Should -HaveCount 3
        @($rows.EpollFd | Sort-Object) | Should -Be @($fx.epoll_exclusive_1, $fx.epoll_exclusive_2, $fx.epoll_plain | Sort-Object)
        foreach ($row in $rows) {
            $row.TargetFd | Should -Be $fx.listener
            Get-Kinds $row | Should -Be @('ExclusiveMix')
            $row.Diagnoses[0].Summary | Should -Be '3 instances, 2 EXCLUSIVE'
            $row.Diagnoses[0].Explanation | Should -Match ([regex]::Escape("with EXCLUSIVE in $($fx.pid):$($fx.epoll_exclusive_1), $($fx.pid):$($fx.epoll_exclusive_2), without in $($fx.pid):$($fx.epoll_plain)"))
        }

        # Judged among the instances read: one instance alone shows no mix.
        Get-Kinds (Get-EpollInterest -Id $fx.pid -EpollFd $fx.epoll_plain) | Should -BeNullOrEmpty
    }

    It 'finds nothing to say where nothing is wrong' {
        $row = Get-EpollInterest -Id $shape.herd.pid -Readiness
        $row.TargetFd | Should -Be $shape.herd.listener
        $row.Diagnoses | Should -HaveCount 0
    }
}

Describe 'Wait diagnoses (Get-MultiplexerWait)' {
    It 'a thread waiting on an instance with nothing registered' {
        $wait = Get-MultiplexerWait -Id $shape.empty.pid
        $wait.EpollFd | Should -Be $shape.empty.epoll
        $wait.RegistrationCount | Should -Be 0
        Get-Kinds $wait | Should -Be @('EmptyInterestList')
        $wait.Diagnoses[0].Summary | Should -Be 'nothing registered'
        $wait.Diagnoses[0].Explanation | Should -Match 'timeout \(infinite\)'
    }

    It 'a thread waiting on an instance whose every registration is stale' {
        $wait = Get-MultiplexerWait -Id $shape.'closed-fd'.pid
        $wait.ThreadName | Should -Be 'loop'
        Get-Kinds $wait | Should -Be @('AllRegistrationsStale')
        $wait.Diagnoses[0].Explanation | Should -Match "Get-EpollInterest -Id $($shape.'closed-fd'.pid) -EpollFd $($shape.'closed-fd'.epoll)"
    }

    It 'three threads waiting on one instance: each names the others' {
        $waits = @(Get-MultiplexerWait -Id $shape.herd.pid)
        @($waits.ThreadName | Sort-Object) | Should -Be @('worker-1', 'worker-2', 'worker-3')
        foreach ($wait in $waits) {
            $wait.EpollFd | Should -Be $shape.herd.epoll
            Get-Kinds $wait | Should -Be @('SeveralWaiters')
            $wait.Diagnoses[0].Summary | Should -Be '3 waiters share it'
            foreach ($other in $waits) { $wait.Diagnoses[0].Explanation | Should -Match "$($shape.herd.pid)/$($other.ThreadId)\b" }
        }
    }

    It 'waiters in three processes sharing one instance after fork: the wait in each process names all three' {
        $herd = $shape.'forked-herd'
        $pids = @($herd.pid, $herd.child_1, $herd.child_2)
        Wait-Until { @(Get-MultiplexerWait -Id $herd.child_1, $herd.child_2 -SettleInterval 0).Count -eq 2 } | Should -BeTrue

        # Together: the waits of each process are written as that process is read, each with the survey of the others.
        $waits = @(Get-MultiplexerWait -Id $pids)
        @($waits.ProcessId) | Should -Be $pids
        foreach ($wait in $waits) {
            Get-Kinds $wait | Should -Be @('SeveralWaiters')
            $wait.Diagnoses[0].Summary | Should -Be '3 waiters share it'
            foreach ($other in $waits) { $wait.Diagnoses[0].Explanation | Should -Match "\b$($other.ProcessId)/$($other.ThreadId)\b" }
        }

        # One process alone is one waiter as far as this call can see: its own threads only.
        (Get-MultiplexerWait -Id $herd.child_1).Diagnoses | Should -HaveCount 0
    }

    It 'one thread on each of several instances is not several waiters' {
        $waits = @(Get-MultiplexerWait -Id $shape.'exclusive-mix'.pid)
        $waits | Should -HaveCount 3
        foreach ($wait in $waits) { $wait.Diagnoses | Should -HaveCount 0 }
    }

    It 'waits whose instance has live registrations, and poll waits, carry no diagnosis' {
        foreach ($name in 'oneshot', 'edge', 'writer-gone', 'readers-gone') {
            $wait = Get-MultiplexerWait -Id $shape[$name].pid
            $wait.ThreadName | Should -Be 'loop' -Because "only the waiting thread of '$name' is listed"
            $wait.Diagnoses | Should -HaveCount 0 -Because $name
        }

        $poll = Get-MultiplexerWait -Id $shape.'poll-socket'.pid
        $poll.Call | Should -Be 'ppoll'
        $poll.Fds.Fd | Should -Be $shape.'poll-socket'.socket
        $poll.Fds.Events | Should -Be 'IN'
        $poll.Fds.Target | Should -Match '^TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ ESTABLISHED'
        $poll.Diagnoses | Should -HaveCount 0
    }
}

Describe 'Diagnoses in the views and across serialization' {
    It 'shows each diagnosis as a line under its row at 80 columns' {
        $text = Get-EpollInterest -Id $shape.oneshot.pid, $shape.'closed-fd'.pid | Out-String -Width 80
        $text | Should -Match "(?m)^\s+! one-shot fired, not re-armed\s*$"
        $text | Should -Match "(?m)^\s+! fd $($shape.'closed-fd'.closed) closed, still registered\s*$"

        $waits = Get-MultiplexerWait -Id $shape.herd.pid, $shape.empty.pid | Out-String -Width 80
        $waits | Should -Match '(?m)^\s+! 3 waiters share it\s*$'
        $waits | Should -Match '(?m)^\s+! nothing registered\s*$'
    }

    It 'keeps the diagnoses through PSSerializer, and the Deserialized view shows them' {
        $live = Get-EpollInterest -Id $shape.oneshot.pid

        # At the default depth (remoting's), a nested object crosses as its ToString(): the summary.
        $row = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($live))
        $row.PSObject.TypeNames[0] | Should -Be 'Deserialized.EpollTools.Core.Proc.EpollInterest'
        "$($row.Diagnoses[0])" | Should -Be 'one-shot fired, not re-armed'
        ($row | Out-String -Width 80) | Should -Match '(?m)^\s+! one-shot fired, not re-armed\s*$'

        # At depth 2 (Export-Clixml's), the diagnosis keeps its kind and explanation.
        $deep = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($live, 2))
        [string] $deep.Diagnoses[0].Kind | Should -Be 'OneShotDisarmed'
        $deep.Diagnoses[0].Explanation | Should -Be $live.Diagnoses[0].Explanation
        ($deep | Out-String -Width 80) | Should -Match '(?m)^\s+! one-shot fired, not re-armed\s*$'

        $wait = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize((Get-MultiplexerWait -Id $shape.empty.pid)))
        ($wait | Out-String -Width 80) | Should -Match '(?m)^\s+! nothing registered\s*$'
    }
}

Describe 'No false alarm on a healthy edge-triggered server under load (tests/fixtures/busy-et-server.c)' {
    BeforeAll {
        $busy = Start-Fixture (Build-Fixture 'busy-et-server' $workDir) ''
        function Measure-Flag([int] $Settle, [int] $Scans) {
            $flags = 0
            for ($i = 0; $i -lt $Scans; $i++) {
                $flags += @((Get-EpollInterest -Id $busy.pid -Readiness -SettleInterval $Settle).Diagnoses | Where-Object Kind -eq 'EdgeTriggeredUnread').Count
            }
            $flags
        }
    }

    AfterAll { Stop-Helper $busy.Process }

    It 'is seen with data ready at single moments (else this test proves nothing)' {
        Measure-Flag -Settle 0 -Scans 100 | Should -BeGreaterThan 0 -Because 'one look at a loaded edge-triggered loop catches data not yet read'
    }

    It 'gives no diagnosis in 100 scans once each is confirmed by a second look' {
        Measure-Flag -Settle ([EpollTools.Core.Interest.DiagnosisConfirmation]::DefaultSettleMilliseconds) -Scans 100 | Should -Be 0
    }
}

Describe 'Get-FdInfo -Unwatched: the sockets and pipes nothing of the process watches' {
    It 'lists the end of a pair that no instance registers, not the end that is registered' {
        $rows = @(Get-FdInfo -Id $shape.edge.pid -Unwatched)
        $rows.Fd | Should -Not -Contain $shape.edge.socket
        foreach ($row in $rows) { [string] $row.Type | Should -BeIn @('Socket', 'Pipe') }
        $registered = [regex]::Match((Get-FdInfo -Id $shape.edge.pid -Fd $shape.edge.socket).Link, '\d+').Value
        # The other end of the registered socket (its peer): nothing waits in its own queue.
        @($rows | Where-Object Target -eq "UNIX STREAM CONNECTED, peer socket:[$registered] held by $($shape.edge.pid):$($shape.edge.socket) (stuck-shapes)") | Should -HaveCount 1
    }

    It 'finds a connection taken out of its instance with data waiting (flow control never resumed), and -Target says none watches it' {
        $app = $shape.unwatched
        $row = @(Get-FdInfo -Id $app.pid -Unwatched | Where-Object Fd -eq $app.socket)
        $row | Should -HaveCount 1
        $row[0].Target | Should -Match "^UNIX STREAM CONNECTED, 100 bytes unread, peer socket:\[\d+\] held by $($app.pid):\d+ \(stuck-shapes\)$"
        (Get-FdInfo -Id $app.pid -Unwatched).Fd | Should -Not -Contain $app.watched

        $rows = @(Get-EpollInterest -Target "$($app.pid):$($app.socket)" -ErrorVariable said -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $rows | Should -HaveCount 0
        $said[0].FullyQualifiedErrorId | Should -Be 'TargetNotWatched,EpollTools.Commands.GetEpollInterestCommand'
        $said[0].Exception.Message | Should -Match "it is fd $($app.socket) of $($app.pid) \(stuck-shapes\), UNIX STREAM CONNECTED, 100 bytes unread, peer socket:\[\d+\] held by $($app.pid):\d+ \(stuck-shapes\)\.$"
    }

    It 'leaves out a socket a thread waits on in poll' {
        $rows = @(Get-FdInfo -Id $shape.'poll-socket'.pid -Unwatched)
        $rows.Fd | Should -Not -Contain $shape.'poll-socket'.socket
        @($rows | Where-Object { $_.Target -like 'TCP *' }).Fd | Should -Contain $shape.'poll-socket'.client
    }
}
