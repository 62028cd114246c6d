# End-to-end: what the module says of a process that is not running its event loop: stopped by a signal, held by a
# tracer (tests/fixtures/tracer.c, a ptrace stop as a debugger makes), frozen by its cgroup. The kernel keeps the
# interrupted epoll_pwait in such a thread's syscall file; the thread is not waiting, nothing it has ready is read,
# and no diagnosis may blame the program's own code for it.

BeforeDiscovery {
    # The cgroup v1 freezer, where this machine mounts it (a v2-only host freezes through cgroup.freeze instead).
    $canFreeze = [Environment]::UserName -eq 'root' -and [IO.File]::Exists('/sys/fs/cgroup/freezer/cgroup.procs')

    # A kernel thread of this host (kthreadd is pid 2 where the pid namespace is the host's): PF_KTHREAD (0x00200000,
    # include/linux/sched.h) in field 9 of its stat.
    $kernelThreads = @(foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
            $name = [IO.Path]::GetFileName($dir)
            if ($name -match '^\d+$' -and [IO.File]::Exists("$dir/stat")) {
                $stat = [IO.File]::ReadAllText("$dir/stat")
                if (([uint64] $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')[6]) -band 0x00200000) { @{ KernelThread = [int] $name }; break }
            }
        })
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $shapesExe = Build-Fixture 'stuck-shapes' $workDir
    $tracerExe = Build-Fixture 'tracer' $workDir

    function Get-Kinds($Object) { @($Object.Diagnoses | ForEach-Object { [string] $_.Kind }) }
    function Get-ThreadState([int] $ProcessId, [int] $ThreadId) {
        $stat = [IO.File]::ReadAllText("/proc/$ProcessId/task/$ThreadId/stat")
        $stat[$stat.LastIndexOf(')') + 2]
    }
    function Send-Signal([string] $Signal, [int] $ProcessId) {
        & /bin/kill -s $Signal $ProcessId
        if ($LASTEXITCODE -ne 0) { throw "kill -s $Signal $ProcessId failed" }
    }
    function Wait-State([int] $ProcessId, [int] $ThreadId, [char] $State) {
        if (-not (Wait-Until { (Get-ThreadState $ProcessId $ThreadId) -ceq $State })) {
            throw "thread $ThreadId of $ProcessId never reached state $State"
        }
    }
}

AfterAll {
    try { [IO.Directory]::Delete($workDir, $true) }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'A process stopped by a signal (SIGSTOP)' {
    BeforeAll {
        $edge = Start-Fixture $shapesExe 'edge'
        $loop = (Get-MultiplexerWait -Id $edge.pid).ThreadId
        Send-Signal STOP $edge.pid
        Wait-State $edge.pid $loop 'T'
    }

    AfterAll {
        Send-Signal CONT $edge.pid
        Stop-Helper $edge.Process
    }

    It 'is listed in its interrupted call, but as stopped, not waiting, with the cause' {
        # The kernel still shows epoll_pwait in the syscall file: only the state tells.
        [IO.File]::ReadAllText("/proc/$($edge.pid)/task/$loop/syscall") | Should -Match '^(22|281) '
        $wait = Get-MultiplexerWait -Id $edge.pid
        $wait.ThreadId | Should -Be $loop
        $wait.Call | Should -Be 'epoll_pwait'
        $wait.State | Should -Be 'T (stopped)'
        $wait.Hold | Should -Be 'Stopped'
        $wait.IsMultiplexerWait | Should -BeTrue
        $wait.IsWaiting | Should -BeFalse
        $wait.WaitChannel | Should -Be 'do_signal_stop'
        Get-Kinds $wait | Should -Be @('Stopped')
        $wait.Diagnoses[0].Summary | Should -Be 'stopped by a signal'
        $wait.Diagnoses[0].Explanation | Should -Match 'SIGCONT'
    }

    It 'shows the kernel stack as evidence when asked (root)' {
        $wait = Get-MultiplexerWait -Id $edge.pid -IncludeKernelStack
        $wait.KernelStack[0] | Should -Match '^do_signal_stop\+0x'
        (Get-MultiplexerWait -Id $edge.pid).KernelStack | Should -BeNullOrEmpty
    }

    It 'says data waits because the process is stopped, instead of blaming its edge-triggered reads' {
        $row = Get-EpollInterest -Id $edge.pid -Readiness
        $row.Ready | Should -Be 'IN|OUT'
        Get-Kinds $row | Should -Be @('Stopped')
        $row.Diagnoses[0].Summary | Should -Be 'IN ready; stopped by a signal'
        $row.Diagnoses[0].Explanation | Should -Match "fd $($edge.socket) .*not read because the process cannot run"
    }

    It 'shows the state letter and the cause in the default view, within 79 columns' {
        $text = Get-MultiplexerWait -Id $edge.pid | Out-String -Width 79
        $text | Should -Match "(?m)^\s+$loop loop\s+T\s+epoll_pwait\s"
        $text | Should -Match '(?m)^\s+! stopped by a signal$'
        @($text -split "`n" | Where-Object Length -gt 79) | Should -HaveCount 0
    }

    It 'is waiting again, and its unread edge is the program''s again, once SIGCONT resumes it' {
        Send-Signal CONT $edge.pid
        Wait-State $edge.pid $loop 'S'
        # Resumed, the wait returns EINTR and the fixture's loop enters epoll_pwait again.
        Wait-Until { (Get-MultiplexerWait -Id $edge.pid).IsWaiting } | Should -BeTrue
        $wait = Get-MultiplexerWait -Id $edge.pid
        $wait.Hold | Should -Be 'None'
        $wait.Diagnoses | Should -HaveCount 0
        Get-Kinds (Get-EpollInterest -Id $edge.pid -Readiness) | Should -Be @('EdgeTriggeredUnread')
    }
}

Describe 'Threads held by a tracer (a ptrace stop)' {
    BeforeAll {
        $herd = Start-Fixture $shapesExe 'herd'
        $workers = @(Get-MultiplexerWait -Id $herd.pid | Sort-Object ThreadName)
        $held = $workers[0]
        $tracer = Start-Fixture $tracerExe "$($held.ThreadId)"
        Wait-State $herd.pid $held.ThreadId 't'
    }

    AfterAll {
        Stop-Helper $tracer.Process
        Stop-Helper $herd.Process
    }

    It 'names the tracer, and the held thread is not one of the waiters' {
        $waits = @(Get-MultiplexerWait -Id $herd.pid)
        $waits | Should -HaveCount 3
        $wait = $waits | Where-Object ThreadId -eq $held.ThreadId
        $wait.State | Should -Be 't (tracing stop)'
        $wait.Hold | Should -Be 'Traced'
        $wait.TracerPid | Should -Be $tracer.tracer
        $wait.TracerName | Should -Be 'tracer'
        $wait.IsWaiting | Should -BeFalse
        Get-Kinds $wait | Should -Be @('HeldByTracer')
        $wait.Diagnoses[0].Summary | Should -Be "held by tracer ($($tracer.tracer))"

        foreach ($other in $waits | Where-Object ThreadId -ne $held.ThreadId) {
            $other.IsWaiting | Should -BeTrue
            Get-Kinds $other | Should -Be @('SeveralWaiters')
            $other.Diagnoses[0].Summary | Should -Be '2 waiters share it'
            $other.Diagnoses[0].Explanation | Should -Not -Match "/$($held.ThreadId)\b"
        }
    }

    It 'leaves the held thread out of the threads waiting on the instance (-TargetPort)' {
        $row = Get-EpollInterest -TargetPort $herd.port -PerConnection -WarningAction SilentlyContinue | Where-Object ProcessId -eq $herd.pid
        $expected = @($workers | Where-Object ThreadId -ne $held.ThreadId | ForEach-Object ThreadId | Sort-Object)
        @($row.WaitingThreadIds | Sort-Object) | Should -Be $expected
    }

    It 'counts all three again once the tracer detaches' {
        $tracer.Process.StandardInput.Close()
        $tracer.Process.WaitForExit()
        Wait-State $herd.pid $held.ThreadId 'S'
        Wait-Until { @(Get-MultiplexerWait -Id $herd.pid | Where-Object IsWaiting).Count -eq 3 } | Should -BeTrue
        (Get-MultiplexerWait -Id $herd.pid)[0].Diagnoses[0].Summary | Should -Be '3 waiters share it'
    }
}

Describe 'A whole process held by a tracer, with data ready' {
    BeforeAll {
        $edge = Start-Fixture $shapesExe 'edge'
        $tids = [IO.Directory]::GetDirectories("/proc/$($edge.pid)/task") | ForEach-Object { [IO.Path]::GetFileName($_) }
        $tracer = Start-Fixture $tracerExe ($tids -join ' ')
    }

    AfterAll {
        Stop-Helper $tracer.Process
        Stop-Helper $edge.Process
    }

    It 'says the tracer holds it instead of blaming the program''s reads' {
        $row = Get-EpollInterest -Id $edge.pid -Readiness
        Get-Kinds $row | Should -Be @('HeldByTracer')
        $row.Diagnoses[0].Summary | Should -Be "IN ready; held by tracer ($($tracer.tracer))"
    }
}

Describe 'A process whose cgroup is frozen (cgroup v1 freezer)' -Skip:(-not $canFreeze) {
    BeforeAll {
        $edge = Start-Fixture $shapesExe 'edge'
        $loop = (Get-MultiplexerWait -Id $edge.pid).ThreadId
        $cgroup = "/sys/fs/cgroup/freezer/epolltools-test-$PID"
        $null = [IO.Directory]::CreateDirectory($cgroup)
        [IO.File]::WriteAllText("$cgroup/cgroup.procs", "$($edge.pid)")
        [IO.File]::WriteAllText("$cgroup/freezer.state", 'FROZEN')
        $null = Wait-Until { [IO.File]::ReadAllText("$cgroup/freezer.state").Trim() -eq 'FROZEN' }
    }

    AfterAll {
        [IO.File]::WriteAllText("$cgroup/freezer.state", 'THAWED')
        Stop-Helper $edge.Process
        $null = Wait-Until { [IO.File]::ReadAllText("$cgroup/cgroup.procs").Trim() -eq '' }
        [IO.Directory]::Delete($cgroup)
    }

    It 'is frozen, named by its cgroup, not waiting and not blamed' {
        $wait = Get-MultiplexerWait -Id $edge.pid
        $wait.ThreadId | Should -Be $loop
        $wait.Hold | Should -Be 'Frozen'
        $wait.IsWaiting | Should -BeFalse
        Get-Kinds $wait | Should -Be @('Frozen')
        $wait.Diagnoses[0].Explanation | Should -Match "/epolltools-test-$PID is frozen"
        Get-Kinds (Get-EpollInterest -Id $edge.pid -Readiness) | Should -Be @('Frozen')
    }
}

Describe 'Processes that wait on nothing: a zombie, a kernel thread, a process killed under a trace' {
    BeforeAll {
        # sh starts a child that exits at once, then becomes (exec) a sleep that never reaps it: a zombie whose
        # parent is named "sleep".
        $parent = Start-Helper '/bin/sh' '-c "/bin/true & exec /bin/sleep 600"'
        $null = Wait-Until { @(Get-ChildItem "/proc/$($parent.Id)/task/$($parent.Id)/children" -ErrorAction Ignore).Count -gt 0 -and ([IO.File]::ReadAllText("/proc/$($parent.Id)/task/$($parent.Id)/children").Trim() -ne '') }
        $zombie = [int] [IO.File]::ReadAllText("/proc/$($parent.Id)/task/$($parent.Id)/children").Trim().Split(' ')[0]
        $null = Wait-Until { (Get-ThreadState $zombie $zombie) -ceq 'Z' -and [IO.File]::ReadAllText("/proc/$($parent.Id)/comm").Trim() -eq 'sleep' }
    }

    AfterAll { $parent.Kill(); $parent.WaitForExit(); $parent.Dispose() }

    It 'says a zombie is one, and names the parent that has not reaped it' {
        $null = Get-EpollInterest -Id $zombie -WarningVariable said -WarningAction SilentlyContinue
        "$said" | Should -Match "Process $zombie \(true\) is a zombie: .*parent $($parent.Id) \(sleep\) has not reaped it"
        $null = Get-MultiplexerWait -Id $zombie -WarningVariable said -WarningAction SilentlyContinue
        "$said" | Should -Match "Process $zombie \(true\) is a zombie"
    }

    It 'shows a kernel thread as one, not as a thread in read(2)' -ForEach $kernelThreads {
        $row = Get-MultiplexerWait -Id $KernelThread -IncludeAllThreads
        $row.Call | Should -Be 'kernel thread'
        $row.IsMultiplexerWait | Should -BeFalse
        $null = Get-MultiplexerWait -Id $KernelThread -WarningVariable said -WarningAction SilentlyContinue
        "$said" | Should -Match "is a kernel thread: it makes no system calls"
    }

    It 'ends a trace of a process that is killed with "process exited", not "epoll fd closed"' {
        $edge = Start-Fixture $shapesExe 'edge'
        $trace = Start-BackgroundCommand 'Trace-EpollInterest -Id $args[0] -Interval 20' -Argument $edge.pid
        try {
            # The trace says once what it traces, after it has read the instance.
            Wait-Until { $trace.Shell.Streams.Information.Count -gt 0 } | Should -BeTrue
            "$($trace.Shell.Streams.Information[0])" | Should -Be 'Tracing 1 epoll instance (1 registration) every 20 ms until Ctrl+C.'
            $edge.Process.Kill()
            $ended = $trace.Async.AsyncWaitHandle.WaitOne(5000)
        }
        finally {
            $result = Stop-BackgroundCommand $trace
            if (-not $edge.Process.HasExited) { $edge.Process.Kill() }
            $edge.Process.WaitForExit()
            $edge.Process.Dispose()
        }
        $ended | Should -BeTrue -Because 'the trace ends when its only instance is gone'
        $closed = @($result.Output | Where-Object { [string] $_.Change -eq 'InstanceClosed' })
        $closed | Should -HaveCount 1
        $closed[0].Detail | Should -Be 'process exited'
    }
}
