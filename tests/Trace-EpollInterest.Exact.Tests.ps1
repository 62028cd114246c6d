# End-to-end: Trace-EpollInterest -Exact, through bpftrace (Debian's package; .ci/run installs it and mounts tracefs)
# against tests/fixtures/exact-sequence.c, which makes a scripted run of epoll calls once the trace is attached: every
# object asserted in order, with masks, data and errnos; 100,000 EPOLL_CTL_MODs counted; the errors (no bpftrace, no
# privilege); Ctrl+C; a traced process that exits.

BeforeDiscovery {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    $why = Get-BpfObstacle
    if ($why) { Write-Host "Exact trace tests skipped: $why." }
}

Describe 'Trace-EpollInterest -Exact' -Skip:([bool] $why) {
    BeforeAll {
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
        Import-EpollTools
        $fdBaseline = Get-ModuleKindFd
        $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
        $workDir = New-WorkDirectory
        $sequenceExe = Build-Fixture 'exact-sequence' $workDir

        # A trace in a thread job says on its Information stream once bpftrace's probes are attached.
        function Wait-TraceAttached($Job) {
            Wait-Until { $Job.Information.Count -gt 0 -or $Job.State -notin 'NotStarted', 'Running' } -LimitMs 60000 | Should -BeTrue
            $Job.Information.Count | Should -Be 1 -Because "the trace says it is attached before anything is traced ($($Job.Error))"
        }

        # The trace runs in a thread job; the fixture starts its calls once the trace says it is attached. Returns the
        # job, its trace's objects once it ended, and what the fixture printed after its calls.
        function Invoke-TracedSequence([string] $Arguments, [int] $Count, [int] $Duration = 30000, [switch] $Follow) {
            $fixture = Start-Fixture $sequenceExe $Arguments
            try {
                $job = Start-ThreadJob {
                    param($Manifest, $Id, $Count, $Duration, $Follow)
                    Import-Module $Manifest
                    Trace-EpollInterest -Exact -Id $Id -Count $Count -Duration $Duration -Follow:$Follow
                } -ArgumentList $manifest, $fixture.pid, $Count, $Duration, $Follow.IsPresent
                Wait-TraceAttached $job
                $fixture.Process.StandardInput.WriteLine('go')
                $fixture.Process.StandardInput.Flush()
                $printed = @{}
                while (($line = $fixture.Process.StandardOutput.ReadLine()) -ne 'done') {
                    $name, $value = $line.Split(' ', 2)
                    $printed[$name] = [int] $value
                }
                $changes = @($job | Wait-Job -Timeout ($Duration / 1000 + 30) | Receive-Job -ErrorVariable jobErrors -WarningVariable jobWarnings -WarningAction SilentlyContinue)
                [pscustomobject]@{ Changes = $changes; Printed = $printed; Errors = $jobErrors; Warnings = $jobWarnings; Job = $job }
            }
            finally {
                Stop-Helper $fixture.Process
                if ($job) { $job | Remove-Job -Force }
            }
        }
    }

    AfterAll {
        try { [IO.Directory]::Delete($workDir, $true) }
        finally {
            Assert-NoFdLeak $fdBaseline -WithinMs 15000
        }
    }

    It 'reports every call of the scripted sequence, in order, with its mask, data and errno (-Follow: <Follow>)' -ForEach @(
        @{ Follow = $false; Count = 18 }
        @{ Follow = $true; Count = 21 }
    ) {
        $run = Invoke-TracedSequence '' $Count -Follow:$Follow
        $run.Errors | Should -BeNullOrEmpty
        $p = $run.Printed
        $c = $run.Changes
        $lines = @($c | ForEach-Object { '{0} {1} {2} {3} {4} {5}' -f $_.Change, $_.EpollFd, $_.TargetFd, $(if ($null -ne $_.Events) { [EpollTools.Core.EpollEventsText]::ToShortString($_.Events) }), $(if ($null -ne $_.Data) { '0x{0:x}' -f $_.Data }), $_.Error })
        $expected = @(
            "Created $($p.epoll)    "
            "Added $($p.epoll) $($p.eventfd) IN|ERR|HUP 0x11 "
            "Failed $($p.epoll) $($p.eventfd)   EEXIST"
            "Modified $($p.epoll) $($p.eventfd) IN|ERR|HUP|ONESHOT 0x12 "
            "Delivered $($p.epoll) $($p.eventfd) IN 0x12 "
            "Disarmed $($p.epoll) $($p.eventfd) ONESHOT 0x12 "
            "TimedOut $($p.epoll)    "
            "Rearmed $($p.epoll) $($p.eventfd) IN|ERR|HUP 0x13 "
            "Added $($p.epoll) $($p.pipe_read) IN|ERR|HUP 0x21 "
            "FdClosed $($p.epoll) $($p.pipe_read)   "
            "Added $($p.epoll) $($p.copy) IN|ERR|HUP 0x31 "
            "FdClosed $($p.epoll) $($p.copy)   "
            "Removed $($p.epoll) $($p.eventfd)   "
            "Failed $($p.epoll) 999   EBADF"
            "Created $($p.second)    "
            "InstanceClosed $($p.second)    "
            "Forked -1    ")
        $details = @(
            'epoll_create1'
            'IN 0x11'
            'EPOLL_CTL_ADD IN 0x11: EEXIST (File exists)'
            'IN 0x11 -> IN|ONESHOT 0x12'
            'IN, event 1 of 1'
            'one-shot fired: nothing more until EPOLL_CTL_MOD'
            'no event: a poll (zero timeout) found nothing ready'
            'ONESHOT 0x12 -> IN 0x13'
            'IN 0x21'
            'closed without DEL: the file''s last fd, the kernel removed it'
            'IN 0x31'
            'closed without DEL: still registered (stale), another fd holds the file'
            'IN 0x13'
            'EPOLL_CTL_DEL: EBADF (Bad file descriptor)'
            'epoll_create1'
            'epoll fd closed')
        if ($Follow) {
            $expected += @(
                "Added $($p.epoll) $($p.eventfd) IN|ERR|HUP 0x41 "
                "Exited -1    "
                "InstanceClosed $($p.epoll)    "
                "Removed $($p.epoll) $($p.eventfd)   ")
            $details += @(
                "child process $($p.child): it holds its parent's epoll fd $($p.epoll) (the same instance); traced from here on"
                'IN 0x41'
                'the process exited'
                'its process exited'
                'IN 0x41')
            @($c | Select-Object -Skip 17 -First 3 | ForEach-Object ProcessId) | Should -Be @($p.child, $p.child, $p.child) -Because 'the child''s ADD, exit and copy of the instance are its own'
        }
        else {
            $expected += "Removed $($p.epoll) $($p.eventfd)   "
            $details += @(
                "child process $($p.child): it holds its parent's epoll fd $($p.epoll) (the same instance); not traced (-Follow traces children)"
                'EPOLL_CTL_DEL')
        }
        $lines | Should -Be $expected
        $c[3].OldData | Should -Be 0x11
        # Details as the sampled trace says registrations, and what each call did.
        @($c.Detail) | Should -Be $details
        # The kernel's clock, in order; every object of the fixture's one thread but the child's.
        for ($i = 1; $i -lt $c.Count; $i++) { $c[$i].Elapsed | Should -BeGreaterOrEqual $c[$i - 1].Elapsed }
        $parent = @($c | Where-Object ProcessId -ne $p.child)
        @($parent.ProcessName | Sort-Object -Unique) | Should -Be 'exact-sequence'
        @($parent.ThreadId | Sort-Object -Unique) | Should -Be $c[0].ProcessId
    }

    It 'reports the return of a wait begun before the trace, on its instance, then the next ones whole' {
        $fixture = Start-Fixture $sequenceExe 'waiting'
        try {
            $job = Start-ThreadJob { param($m, $id) Import-Module $m; Trace-EpollInterest -Exact -Id $id -Count 2 -Duration 30000 } -ArgumentList $manifest, $fixture.pid
            Wait-TraceAttached $job
            foreach ($round in 1, 2) {
                $fixture.Process.StandardInput.WriteLine('go')
                $fixture.Process.StandardInput.Flush()
                $fixture.Process.StandardOutput.ReadLine() | Should -Be "woke $round"
            }
            $changes = @($job | Wait-Job -Timeout 30 | Receive-Job)
            $changes | Should -HaveCount 2
            $changes[0].Change | Should -Be 'Delivered'
            $changes[0].EpollFd | Should -Be $fixture.epoll
            $changes[0].ThreadId | Should -Be $fixture.waiter
            $changes[0].TargetFd | Should -BeNullOrEmpty
            $changes[0].Detail | Should -Be '1 event(s), not read: the wait began before the trace'
            $changes[1].Change | Should -Be 'Delivered'
            $changes[1].TargetFd | Should -Be $fixture.eventfd
            $changes[1].Data | Should -Be 0x77
        }
        finally {
            Stop-Helper $fixture.Process
            if ($job) { $job | Remove-Job -Force }
        }
    }

    It 'counts 100,000 EPOLL_CTL_MODs exactly, or says how many the kernel dropped' {
        $run = Invoke-TracedSequence 'churn 100000' 100002 -Duration 60000
        $run.Errors | Should -BeNullOrEmpty
        $modified = @($run.Changes | Where-Object Change -eq 'Modified').Count
        $lost = if ("$($run.Warnings)" -match 'dropped (\d+) traced calls') { [int] $Matches[1] } else { 0 }
        Write-Host "  100,000 EPOLL_CTL_MODs: $modified traced, $lost dropped by the kernel"
        $modified + $lost | Should -BeGreaterOrEqual 100000
        if ($lost -eq 0) { $modified | Should -Be 100000 }
        # Each MOD flips the data between 1 and 2: the last one's old data is 2, its new 1... in the order made.
        $last = @($run.Changes | Where-Object Change -eq 'Modified')[-1]
        $last.OldData + $last.Data | Should -Be 3
    }

    It 'refuses without bpftrace on PATH, naming the package' {
        $path = $env:PATH
        try {
            $env:PATH = $workDir
            $failed = $null
            try { Trace-EpollInterest -Exact -Id $PID -Duration 1000 } catch { $failed = $_ }
        }
        finally { $env:PATH = $path }
        $failed.FullyQualifiedErrorId | Should -Be 'BpftraceNotInstalled,EpollTools.Commands.TraceEpollInterestCommand'
        [string] $failed.CategoryInfo.Category | Should -Be 'NotInstalled'
        $failed.ErrorDetails.RecommendedAction | Should -Match 'apt-get install bpftrace'
    }

    It 'refuses the sampled trace''s -Interval and -IncludeThreads with -Exact' {
        foreach ($extra in @{ Interval = 50 }, @{ IncludeThreads = $true }) {
            $failed = $null
            try { Trace-EpollInterest -Exact -Id $PID -Duration 1000 @extra } catch { $failed = $_ }
            $failed.FullyQualifiedErrorId | Should -Be 'ExactWithSamplingParameter,EpollTools.Commands.TraceEpollInterestCommand'
        }
        @(Get-Process bpftrace -ErrorAction Ignore | Where-Object { $_.Parent.Id -eq $PID }) | Should -HaveCount 0 -Because 'refused before bpftrace starts'
    }

    It 'refuses more processes than it traces at once, before bpftrace starts' {
        $failed = $null
        try { Trace-EpollInterest -Exact -Id (1..65) -Duration 1000 -ErrorAction SilentlyContinue -WarningAction SilentlyContinue } catch { $failed = $_ }
        $failed.FullyQualifiedErrorId | Should -Be 'ExactTraceTooManyProcesses,EpollTools.Commands.TraceEpollInterestCommand'
        [string] $failed.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $failed.TargetObject | Should -Be 65
    }

    It 'refuses an unprivileged user with PermissionDenied' {
        $result = Invoke-PwshAsNobody "try { Trace-EpollInterest -Exact -Id `$PID -Duration 1000 } catch { `$_.FullyQualifiedErrorId + ' ' + `$_.CategoryInfo.Category }"
        $result | Should -Be 'ExactTraceNotPermitted,EpollTools.Commands.TraceEpollInterestCommand PermissionDenied'
    }

    It 'stops at Ctrl+C at once, and leaves no bpftrace behind' {
        $fixture = Start-Fixture $sequenceExe ''
        try {
            $job = Start-ThreadJob { param($m, $id) Import-Module $m; Trace-EpollInterest -Exact -Id $id } -ArgumentList $manifest, $fixture.pid
            Wait-TraceAttached $job
            $tracers = @(Get-Process bpftrace -ErrorAction Ignore | Where-Object { $_.Parent.Id -eq $PID })
            $tracers | Should -HaveCount 1
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $job | Stop-Job
            $clock.Stop()
            Write-Host "  stopped in $($clock.ElapsedMilliseconds) ms"
            $clock.ElapsedMilliseconds | Should -BeLessThan 200
            # Killed at once; the kernel takes about a second to detach its probes as it exits.
            Wait-Until { $tracers[0].HasExited } -LimitMs 5000 | Should -BeTrue -Because 'bpftrace ends with the trace'
            $job.Error | Should -BeNullOrEmpty
        }
        finally {
            Stop-Helper $fixture.Process
            if ($job) { $job | Remove-Job -Force }
        }
    }

    It 'ends by itself when the traced process exits, without an error' {
        $fixture = Start-Fixture $sequenceExe ''
        $job = Start-ThreadJob { param($m, $id) Import-Module $m; Trace-EpollInterest -Exact -Id $id -Verbose 4>&1 } -ArgumentList $manifest, $fixture.pid
        try {
            Wait-TraceAttached $job
            $fixture.Process.StandardInput.WriteLine('go')
            $fixture.Process.StandardInput.Flush()
            while ($fixture.Process.StandardOutput.ReadLine() -ne 'done') { }
            Stop-Helper $fixture.Process
            $job | Wait-Job -Timeout 20 | Out-Null
            $job.State | Should -Be 'Completed'
            $output = @($job | Receive-Job)
            # The whole sequence and its exit, nothing more: the second instance's fd number is the closed copy's, and
            # closing it is not the stale registration's close.
            $changes = @($output | Where-Object { $_ -is [EpollTools.Core.Proc.EpollInterestChange] })
            @($changes.Change) | Should -Be @(
                'Created', 'Added', 'Failed', 'Modified', 'Delivered', 'Disarmed', 'TimedOut', 'Rearmed', 'Added', 'FdClosed', 'Added', 'FdClosed', 'Removed', 'Failed', 'Created', 'InstanceClosed',
                'Forked', 'Removed', 'Exited', 'InstanceClosed')
            $changes[-2].Detail | Should -Be 'the process exited'
            $changes[-1].Detail | Should -Be 'its process exited'
            "$($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] })" | Should -Match 'Every traced process has exited'
            $job.Error | Should -BeNullOrEmpty
            Wait-Until { @(Get-Process bpftrace -ErrorAction Ignore | Where-Object { $_.Parent.Id -eq $PID }).Count -eq 0 } -LimitMs 5000 | Should -BeTrue
        }
        finally { $job | Remove-Job -Force }
    }
}
