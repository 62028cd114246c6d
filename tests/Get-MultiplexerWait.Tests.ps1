# End-to-end: Get-MultiplexerWait against a real fixture (tests/fixtures/multiplexer-waits.c, built here with gcc)
# whose threads block in each multiplexing call with known arguments, named after the call. x86-64 has all seven
# calls; on arm64 the fixture has only the four the generic table defines, and the tests of the other three skip.

BeforeDiscovery {
    $canSwitchUser = [Environment]::UserName -eq 'root' -and [IO.File]::Exists('/usr/bin/setpriv')
    $hasLegacyCalls = [Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64'
    $python = @('/usr/bin/python3', '/usr/local/bin/python3') | Where-Object { [IO.File]::Exists($_) } | Select-Object -First 1
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $fixtureExe = Build-Fixture 'multiplexer-waits' $workDir
    $started = [Diagnostics.Stopwatch]::StartNew()
    $fx = Start-Fixture $fixtureExe ''
    $process = $fx.Process

    $waits = @(Get-MultiplexerWait -Id $fx.pid)
    function Get-Wait([string] $Thread) { $waits | Where-Object ThreadName -eq $Thread }
}

AfterAll {
    try {
        Stop-Helper $process
        [IO.Directory]::Delete($workDir, $true)
    }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Get-MultiplexerWait on the fixture' {
    It 'lists every thread blocked in a multiplexing call, and no other' {
        $expected = @('ep-pwait', 'ep-pwait2', 'ppoll', 'pselect6')
        if ([Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64') { $expected += 'ep-wait', 'poll', 'select' }
        @($waits.ThreadName | Sort-Object) | Should -Be @($expected | Sort-Object)
        foreach ($wait in $waits) {
            $wait.ProcessId | Should -Be $fx.pid
            $wait.ProcessName | Should -Be 'multiplexer-wai'   # comm is cut to 15 characters
            $wait.ThreadId | Should -Not -Be $fx.pid
            $wait.IsMultiplexerWait | Should -BeTrue
            $wait.State | Should -Be 'S (sleeping)'
            $wait.WaitChannel | Should -Not -BeNullOrEmpty
        }
        @($waits.ThreadId | Sort-Object -Unique) | Should -HaveCount $waits.Count
    }

    It 'decodes epoll_wait: the epoll fd, maxevents, an infinite timeout, and how many are registered' -Skip:(-not $hasLegacyCalls) {
        $wait = Get-Wait 'ep-wait'
        $wait.Call | Should -Be 'epoll_wait'
        $wait.SyscallNumber | Should -Be 232
        $wait.EpollFd | Should -Be $fx.epoll
        $wait.MaxEvents | Should -Be 16
        $wait.RegistrationCount | Should -Be 2
        $wait.TimeoutMilliseconds | Should -Be -1
        $wait.Timeout | Should -Be 'infinite'
        $wait.WaitsOn | Should -Be "epoll fd $($fx.epoll) (2 registered)"
        $wait.WaitChannel | Should -Match 'ep_poll|epoll'
    }

    It 'decodes epoll_pwait''s timeout in milliseconds and epoll_pwait2''s timespec from the process''s memory' {
        $pwait = Get-Wait 'ep-pwait'
        $pwait.Call | Should -Be 'epoll_pwait'
        $pwait.EpollFd | Should -Be $fx.epoll
        $pwait.MaxEvents | Should -Be 8
        $pwait.TimeoutMilliseconds | Should -Be 600000
        $pwait.Timeout | Should -Be '600 s'
        $pwait2 = Get-Wait 'ep-pwait2'
        $pwait2.Call | Should -Be 'epoll_pwait2'
        $pwait2.MaxEvents | Should -Be 4
        $pwait2.TimeoutMilliseconds | Should -Be 3600500
        $pwait2.Timeout | Should -Be '3600.5 s'
        $pwait2.Note | Should -BeNullOrEmpty
    }

    It 'reads poll''s pollfd array: each fd with its events and what it is, negative entries left out as the kernel does' -Skip:(-not $hasLegacyCalls) {
        $wait = Get-Wait 'poll'
        $wait.Call | Should -Be 'poll'
        $wait.Nfds | Should -Be 3
        @($wait.Fds.Fd) | Should -Be @($fx.pipe_read, $fx.eventfd)
        @($wait.Fds.Events) | Should -Be @('IN', 'IN|PRI')
        $wait.Fds[0].TargetKind | Should -Be 'Pipe'
        $wait.Fds[0].Target | Should -Match "^pipe:\[\d+\] read end; writers: $($fx.pid) multiplexer-wai fd $($fx.pipe_write)$"
        $wait.Fds[1].Target | Should -Match '^eventfd count=0'
        $wait.Note | Should -Be '1 entry with a negative fd (the kernel ignores it)'
        $wait.TimeoutMilliseconds | Should -Be -1
        $wait.WaitsOn | Should -Be "2 fds: $($fx.pipe_read) IN, $($fx.eventfd) IN|PRI"
    }

    It 'reads ppoll''s array and its timespec' {
        $wait = Get-Wait 'ppoll'
        $wait.Call | Should -Be 'ppoll'
        @($wait.Fds.Fd) | Should -Be @($fx.eventfd)
        $wait.TimeoutMilliseconds | Should -Be 1234500
    }

    It 'reads select''s three sets as the process passed them, nfds, and a NULL timeout as infinite' -Skip:(-not $hasLegacyCalls) {
        $wait = Get-Wait 'select'
        $wait.Call | Should -Be 'select'
        $wait.Nfds | Should -Be (([Math]::Max([Math]::Max($fx.pipe_read, $fx.eventfd), $fx.socket)) + 1)
        @($wait.ReadFds) | Should -Be @(@($fx.pipe_read, $fx.eventfd) | Sort-Object)
        $wait.WriteFds | Should -BeNullOrEmpty
        @($wait.ExceptFds) | Should -Be @($fx.socket)
        # The sets as poll events, the kernel's own mapping: read IN, except PRI.
        ($wait.Fds | Where-Object Fd -eq $fx.socket).Events | Should -Be 'PRI'
        ($wait.Fds | Where-Object Fd -eq $fx.socket).Target | Should -Match '^UNIX STREAM'
        ($wait.Fds | Where-Object Fd -eq $fx.pipe_read).Events | Should -Be 'IN'
        $wait.Timeout | Should -Be 'infinite'
    }

    It 'reads pselect6''s set and timespec' {
        $wait = Get-Wait 'pselect6'
        $wait.Call | Should -Be 'pselect6'
        $wait.Nfds | Should -Be ($fx.pipe_read + 1)
        @($wait.ReadFds) | Should -Be @($fx.pipe_read)
        $wait.TimeoutMilliseconds | Should -Be 4200000
        $wait.WaitsOn | Should -Be "nfds $($fx.pipe_read + 1): read $($fx.pipe_read)"
    }

    It 'says about how long each thread has waited, never longer than the fixture has run' {
        $elapsed = $started.Elapsed
        foreach ($wait in $waits) {
            $wait.WaitingFor | Should -BeOfType ([timespan])
            # The scheduler's clock leaves out the time the hypervisor stole (a second or more on a VM): measured
            # against CLOCK_MONOTONIC, every wait read that much too long.
            $wait.WaitingFor | Should -BeLessOrEqual ($elapsed + [timespan]::FromMilliseconds(250))
        }
        Start-Sleep -Milliseconds 300
        $later = Get-MultiplexerWait -Id $fx.pid | Where-Object ThreadName -eq 'ppoll'
        ($later.WaitingFor - (Get-Wait 'ppoll').WaitingFor).TotalMilliseconds | Should -BeGreaterThan 250
    }

    It 'lists the other threads with their system call under -IncludeAllThreads, by name on x86-64' {
        $all = @(Get-MultiplexerWait -Id $fx.pid -IncludeAllThreads)
        $all.Count | Should -Be ($waits.Count + 2)
        $sleeper = $all | Where-Object ThreadName -eq 'sleeper'
        $sleeper.IsMultiplexerWait | Should -BeFalse
        $sleeper.WaitsOn | Should -BeNullOrEmpty
        $main = $all | Where-Object ThreadId -eq $fx.pid
        $main.WaitChannel | Should -Not -BeNullOrEmpty
        if ([Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64') {
            $sleeper.Call | Should -Be 'clock_nanosleep'   # glibc's nanosleep()
            $sleeper.SyscallNumber | Should -Be 230
            $main.Call | Should -Be 'read'                 # read(0, ...)
            $main.SyscallNumber | Should -Be 0
        }
        else {
            # Only x86-64 has a name table; elsewhere the number is shown.
            $sleeper.Call | Should -Be "syscall $($sleeper.SyscallNumber)"
            $main.Call | Should -Be "syscall $($main.SyscallNumber)"
        }
    }

    It 'pipes each epoll wait into Get-EpollInterest, once per instance, and the poll and select waits into nothing' {
        $interest = @(Get-MultiplexerWait -Id $fx.pid | Get-EpollInterest)
        $interest | Should -HaveCount 2
        @($interest.EpollFd | Sort-Object -Unique) | Should -Be @($fx.epoll)
        @($interest.TargetFd | Sort-Object) | Should -Be @(@($fx.pipe_read, $fx.eventfd) | Sort-Object)
    }

    It 'takes processes from Get-Process, by name with wildcards, and from -All' {
        @(Get-Process -Id $fx.pid | Get-MultiplexerWait).Count | Should -Be $waits.Count
        @(Get-MultiplexerWait -Name 'multiplexer-w*').Count | Should -Be $waits.Count
        @(Get-MultiplexerWait -All -WarningAction SilentlyContinue | Where-Object ProcessId -eq $fx.pid).Count | Should -Be $waits.Count
    }

    It 'warns when the one process asked for has no thread in a multiplexing wait' {
        $sleep = Start-Helper '/usr/bin/sleep' '30'
        try {
            Wait-Until { (Get-Content "/proc/$($sleep.Id)/syscall" -ErrorAction Ignore) -match '^\d' }
            $warnings = $null
            @(Get-MultiplexerWait -Id $sleep.Id -WarningVariable warnings -WarningAction SilentlyContinue) | Should -HaveCount 0
            "$warnings" | Should -Match "No thread of process $($sleep.Id) \(sleep\) is in epoll_wait, poll or select now.*-IncludeAllThreads"
        }
        finally { $sleep.Kill(); $sleep.WaitForExit(); $sleep.Dispose() }
    }

    It 'times a wait in the scheduler''s own clock, on whichever CPU the thread last ran' {
        # Each CPU's clock falls behind CLOCK_MONOTONIC by its own stolen time: a sleeper pinned to each in turn. The
        # wait is at least the 300 ms slept less what the hypervisor stole from that CPU meanwhile (/proc/stat's steal,
        # in clock ticks of 10 ms) and a tick of rounding: a measure in another CPU's clock, or in the wrong one, misses.
        function Get-StolenMs([int] $Cpu) { 10 * [long] ((-split (Get-Content /proc/stat | Where-Object { $_ -like "cpu$Cpu *" }))[8]) }
        foreach ($cpu in 0..([Environment]::ProcessorCount - 1)) {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $sleep = Start-Helper '/usr/bin/taskset' "-c $cpu /usr/bin/sleep 30"
            try {
                Wait-Until { (Get-Content "/proc/$($sleep.Id)/syscall" -ErrorAction Ignore) -match '^\d' }
                $stolenBefore = Get-StolenMs $cpu
                Start-Sleep -Milliseconds 300
                $wait = Get-MultiplexerWait -Id $sleep.Id -IncludeAllThreads
                $stolen = (Get-StolenMs $cpu) - $stolenBefore
                $wait.WaitingFor | Should -BeGreaterOrEqual ([timespan]::FromMilliseconds(300 - $stolen - 10)) -Because "$stolen ms were stolen from cpu $cpu meanwhile"
                $wait.WaitingFor | Should -BeLessOrEqual ($clock.Elapsed + [timespan]::FromMilliseconds(100))
            }
            finally { $sleep.Kill(); $sleep.WaitForExit(); $sleep.Dispose() }
        }
    }

    It 'reports a process that does not exist, and goes on to the next' {
        $errors = $null
        $found = @(Get-MultiplexerWait -Id 999999999, $fx.pid -ErrorVariable errors -ErrorAction SilentlyContinue)
        $found.Count | Should -Be $waits.Count
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'NoProcessFoundForGivenId,EpollTools.Commands.GetMultiplexerWaitCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be 999999999
    }

    It 'renders in 80 columns, also after serialization' {
        $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($waits))
        foreach ($set in $waits, $copy) {
            $lines = @(($set | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd)
            $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
            $lines | Should -Contain "   Process: $($fx.pid) (multiplexer-wai)"
            $lines | Where-Object { $_ -match '^\s*Tid\s' } | Select-Object -First 1 | Should -Match '^\s*Tid\s+Thread\s+St\s+Call\s+Waiting\s+Timeout\s+WaitsOn$'
            $lines | Where-Object { $_ -match '\sppoll\s+S\s+ppoll\s+\d+\.\ds\s+1234\.5s ' } | Should -Not -BeNullOrEmpty
        }
    }

    It 'tells an unprivileged user that reading a root process''s threads needs ptrace attach access' -Skip:(-not $canSwitchUser) {
        $script = @"
try { `$null = Get-MultiplexerWait -Id $($fx.pid) -ErrorAction Stop; 'no error' }
catch { `$_.FullyQualifiedErrorId + '|' + `$_.CategoryInfo.Category + '|' + `$_.ErrorDetails.Message }
"@
        $text = @(Invoke-PwshAsNobody $script) -join "`n"
        $text | Should -Match "ProcessAccessDenied,EpollTools.Commands.GetMultiplexerWaitCommand\|PermissionDenied\|Cannot read process $($fx.pid) \(multiplexer-wai\): .*task/\*/syscall.* ptrace attach access"
    }
}

Describe 'Get-MultiplexerWait on programs that use libc''s own calls' {
    It 'shows a Python select.select and select.poll blocked on a pipe' -Skip:(-not $python) -ForEach @{ Python = $python } {
        $code = 'import os, select, sys, threading; r, w = os.pipe(); p = select.poll(); p.register(r, select.POLLIN); threading.Thread(target=lambda: p.poll(), daemon=True).start(); print(r, flush=True); select.select([r], [], [], 600)'
        $helper = Start-Helper $Python "-c `"$code`""
        try {
            $readFd = [int] $helper.StandardOutput.ReadLine()
            Wait-Until { @(Get-MultiplexerWait -Id $helper.Id).Count -eq 2 }
            $found = @(Get-MultiplexerWait -Id $helper.Id)
            # glibc's select() enters pselect6 on x86-64 (and everywhere without a select syscall); poll() is poll there.
            $selectWait = $found | Where-Object { $_.Call -in 'select', 'pselect6' }
            @($selectWait.ReadFds) | Should -Be @($readFd)
            $selectWait.TimeoutMilliseconds | Should -Be 600000
            $pollWait = $found | Where-Object { $_.Call -in 'poll', 'ppoll' }
            @($pollWait.Fds.Fd) | Should -Be @($readFd)
            $pollWait.Fds[0].Events | Should -Be 'IN'
            $pollWait.Timeout | Should -Be 'infinite'
        }
        finally { $helper.Kill(); $helper.WaitForExit(); $helper.Dispose() }
    }
}

Describe 'Get-MultiplexerWait under churn' {
    BeforeAll {
        $churn = Start-Fixture (Build-Fixture 'wait-churn' $workDir) ''
    }

    AfterAll { Stop-Helper $churn.Process }

    It 'describes each call with its own arguments while threads enter and leave waits, or skips the thread' {
        $seen = @{}
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($clock.ElapsedMilliseconds -lt 3000) {
            foreach ($wait in Get-MultiplexerWait -Id $churn.pid -ErrorAction Stop -WarningAction SilentlyContinue) {
                $shape = switch ($wait.Call) {
                    'epoll_pwait' { 'epoll_pwait fd {0} max {1} timeout {2}' -f $wait.EpollFd, $wait.MaxEvents, $wait.TimeoutMilliseconds }
                    'ppoll' { 'ppoll {0} timeout {1}' -f (@($wait.Fds | ForEach-Object { "$($_.Fd) $($_.Events)" }) -join ', '), $wait.TimeoutMilliseconds }
                    default { "unexpected call $($wait.Call)" }
                }
                $seen["$($wait.ThreadName): $shape"] = $true
            }
        }

        $allowed = @(
            "churn-epoll: epoll_pwait fd $($churn.epoll) max 4 timeout 1"
            "churn-poll: ppoll $($churn.eventfd) IN, $($churn.pipe_read) IN|PRI timeout 1"
            "churn-mixed: ppoll $($churn.pipe_read) OUT timeout 2"
            "churn-mixed: epoll_pwait fd $($churn.epoll) max 7 timeout 2"
            # One call site, one array, one timespec: only the thread's not having run tells the two apart.
            "churn-same: ppoll $($churn.eventfd) IN timeout 0.1"
            "churn-same: ppoll $($churn.pipe_read) OUT timeout 1.2"
            "churn-short: epoll_pwait fd $($churn.epoll) max 1 timeout 5"
        )
        $seen.Keys | Where-Object { $_ -notin $allowed } | Should -BeNullOrEmpty
        $seen.Keys | Where-Object { $_ -like 'churn-epoll:*' } | Should -Not -BeNullOrEmpty -Because 'the loop must have seen the threads wait'
        $seen.Keys | Where-Object { $_ -like 'churn-same:*' } | Should -Not -BeNullOrEmpty -Because 'the loop must have seen the one-site thread wait'
    }

    It 'skips a thread that exits while it is read, never showing it without its name' {
        $rows = 0
        $nameless = 0
        $short = 0
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($clock.ElapsedMilliseconds -lt 2000) {
            foreach ($wait in Get-MultiplexerWait -Id $churn.pid -IncludeAllThreads -SettleInterval 0 -ErrorAction Stop -WarningAction SilentlyContinue) {
                $rows++
                if ([string]::IsNullOrEmpty($wait.ThreadName) -or [string]::IsNullOrEmpty($wait.State)) { $nameless++ }
                if ($wait.ThreadName -eq 'churn-short') { $short++ }
            }
        }
        Write-Host "    thread churn: $rows rows, $short of short-lived threads, $nameless nameless"
        $nameless | Should -Be 0
        $short | Should -BeGreaterThan 0 -Because 'the loop must have seen short-lived threads'
    }

    It 'skips processes that exit while -All reads them, without an error' {
        $spawner = [Diagnostics.Process]::Start('/bin/sh', '-c "for i in $(seq 300); do /bin/true; done"')
        try {
            for ($i = 0; $i -lt 5; $i++) {
                $null = Get-MultiplexerWait -All -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
                $problems | Should -BeNullOrEmpty
            }
        }
        finally { $spawner.WaitForExit(); $spawner.Dispose() }
    }
}

# A 32-bit x86 program calls through the i386 table: other numbers (poll is 168, not 7), 32-bit pointers, fd_set
# words and times, and calls x86-64 does not have (the old select with its arguments in memory, the *_time64 calls).
# tests/fixtures/i386-waiter.c is freestanding (int 0x80), so it builds with gcc -m32 without a 32-bit libc.
Describe 'Get-MultiplexerWait on a 32-bit x86 process' -Skip:(-not $hasLegacyCalls) {
    BeforeAll {
        $i386Exe = Build-Fixture 'i386-waiter' $workDir -Freestanding32

        # Starts the fixture in one call and returns it once its thread is inside that call (its syscall file says so).
        function Start-I386Waiter([string] $Call, [int] $Number) {
            $waiter = Start-Fixture $i386Exe $Call
            Wait-Until { [IO.File]::ReadAllText("/proc/$($waiter.pid)/syscall").StartsWith("$Number ") }
            $waiter
        }
    }

    It 'decodes <call> (i386 number <number>): <what>' -ForEach @(
        @{ Call = 'poll'; Number = 168; What = 'the pollfd array, a negative entry left out, no timeout'; Timeout = 'infinite'; Set = 'poll' }
        @{ Call = 'ppoll'; Number = 309; What = 'an old_timespec32 of two 32-bit words'; Timeout = '1234.5 s'; Set = 'poll' }
        @{ Call = 'ppoll_time64'; Number = 414; What = 'a 64-bit timespec'; Timeout = '2345.25 s'; Set = 'poll' }
        @{ Call = '_newselect'; Number = 142; What = 'sets of 32-bit words, fd 40 in the second, an old_timeval32'; Timeout = '4200.5 s'; Set = 'select' }
        @{ Call = 'select'; Number = 82; What = 'its five arguments read from the block its one argument points to'; Timeout = '4200.5 s'; Set = 'select' }
        @{ Call = 'pselect6'; Number = 308; What = 'sets and an old_timespec32'; Timeout = '1234.5 s'; Set = 'select' }
        @{ Call = 'pselect6_time64'; Number = 413; What = 'sets and a 64-bit timespec'; Timeout = '2345.25 s'; Set = 'select' }
        @{ Call = 'epoll_wait'; Number = 256; What = 'the epoll fd, maxevents and a timeout in milliseconds'; Timeout = '600 s'; Set = 'epoll' }
        @{ Call = 'epoll_pwait'; Number = 319; What = 'a negative timeout as infinite'; Timeout = 'infinite'; Set = 'epoll' }
        @{ Call = 'epoll_pwait2'; Number = 441; What = 'a 64-bit timespec'; Timeout = '2345.25 s'; Set = 'epoll' }
    ) {
        $waiter = Start-I386Waiter $Call $Number
        try {
            $wait = @(Get-MultiplexerWait -Id $waiter.pid)
            $wait | Should -HaveCount 1
            $wait[0].Call | Should -Be $Call
            $wait[0].SyscallNumber | Should -Be $Number
            $wait[0].Abi | Should -Be 'I386'
            $wait[0].IsWaiting | Should -BeTrue
            $wait[0].Timeout | Should -Be $Timeout
            switch ($Set) {
                'poll' {
                    $wait[0].Nfds | Should -Be 4
                    @($wait[0].Fds.Fd) | Should -Be @(0, $waiter.pipe_read, $waiter.high_fd)
                    @($wait[0].Fds.Events) | Should -Be @('IN', 'IN', 'IN|PRI')
                    $wait[0].Fds[1].TargetKind | Should -Be 'Pipe'
                    $wait[0].Fds[2].TargetKind | Should -Be 'EventFd'
                    $wait[0].Note | Should -Be '1 entry with a negative fd (the kernel ignores it)'
                }
                'select' {
                    $wait[0].Nfds | Should -Be ($waiter.high_fd + 1)
                    @($wait[0].ReadFds) | Should -Be @(0, $waiter.pipe_read)
                    $wait[0].WriteFds | Should -BeNullOrEmpty
                    @($wait[0].ExceptFds) | Should -Be @($waiter.high_fd)
                    $wait[0].Note | Should -BeNullOrEmpty
                }
                'epoll' {
                    $wait[0].EpollFd | Should -Be $waiter.epoll
                    $wait[0].MaxEvents | Should -Be 5
                    $wait[0].RegistrationCount | Should -Be 3
                }
            }
        }
        finally { Stop-Helper $waiter.Process }
    }

    It 'counts a 32-bit epoll waiter as the instance''s waiting thread in Get-EpollInterest -Target' {
        $waiter = Start-I386Waiter 'epoll_pwait' 319
        try {
            $watchers = @(Get-EpollInterest -Target "$($waiter.pid):$($waiter.pipe_read)" -WarningAction SilentlyContinue)
            $watchers | Should -HaveCount 1
            $watchers[0].EpollFd | Should -Be $waiter.epoll
            @($watchers[0].WaitingThreadIds) | Should -Be @($waiter.pid)
        }
        finally { Stop-Helper $waiter.Process }
    }

    It 'names the table of a 32-bit thread''s other calls, whose numbers mean other calls on x86-64' {
        $waiter = Start-I386Waiter 'read' 3
        try {
            Get-MultiplexerWait -Id $waiter.pid -WarningAction SilentlyContinue | Should -BeNullOrEmpty
            $all = @(Get-MultiplexerWait -Id $waiter.pid -IncludeAllThreads)
            $all | Should -HaveCount 1
            $all[0].Call | Should -Be 'syscall 3 (i386)'   # 3 is read in the i386 table, close in x86-64's
            $all[0].IsMultiplexerWait | Should -BeFalse
        }
        finally { Stop-Helper $waiter.Process }
    }
}
