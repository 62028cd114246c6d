# End-to-end: Trace-EpollInterest follows a real process whose interest list changes on command
# (tests/fixtures/interest-changer.c) and reports each change once, with its kind, fd, masks and data; threads that
# start and stop waiting with -IncludeThreads; it ends on Ctrl+C (PowerShell.Stop), -Duration, -Count, or when the
# instance closes.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $changerExe = Build-Fixture 'interest-changer' $workDir

    # Sends one command to the fixture and waits for its "ok".
    function Send-Command($Fixture, [string] $Command) {
        $Fixture.Process.StandardInput.WriteLine($Command)
        $Fixture.Process.StandardInput.Flush()
        $Fixture.Process.StandardOutput.ReadLine() | Should -Be 'ok'
    }

    # Waits until the background trace has written a change of this kind (a hang guard: the trace samples every 20 ms).
    # The output collection is read by index: enumerating it while the trace runs would wait for the trace to end.
    function Wait-Change($Trace, [string] $Kind, [int] $Count = 1) {
        $seen = { @(@(for ($i = 0; $i -lt $Trace.Output.Count; $i++) { $Trace.Output[$i] }) | Where-Object { [string] $_.Change -eq $Kind }).Count }
        Wait-Until { (& $seen) -ge $Count } | Should -BeTrue -Because "a $Kind change should be traced"
    }
}

AfterAll {
    try { [IO.Directory]::Delete($workDir, $true) }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Trace-EpollInterest on a changing interest list' {
    BeforeAll {
        $fx = Start-Fixture $changerExe ''
        $trace = Start-BackgroundCommand 'Trace-EpollInterest -Id $args[0] -EpollFd $args[1] -Interval 20 -IncludeThreads' -Argument $fx.pid, $fx.epoll
        # The trace reads its baseline first: give it a sample before changing anything.
        Start-Sleep -Milliseconds 200

        # The waiter comes before 'mod': a registered for OUT is always ready, and would end any wait at once.
        Send-Command $fx 'add'; Wait-Change $trace 'Added'
        Send-Command $fx 'wait'; Wait-Change $trace 'StartedWaiting'
        Send-Command $fx 'wake'; Wait-Change $trace 'StoppedWaiting'
        Send-Command $fx 'mod'; Wait-Change $trace 'Modified'
        Send-Command $fx 'oneshot'; Wait-Change $trace 'Added' 3
        Send-Command $fx 'fire'; Wait-Change $trace 'Disarmed'
        Send-Command $fx 'rearm'; Wait-Change $trace 'Rearmed'
        Send-Command $fx 'del'; Wait-Change $trace 'Removed'
        Send-Command $fx 'close'; Wait-Change $trace 'InstanceClosed'

        # The trace ends by itself once its only instance is closed.
        $ended = $trace.Async.AsyncWaitHandle.WaitOne(5000)
        $result = Stop-BackgroundCommand $trace
        $changes = @($result.Output)
        Stop-Helper $fx.Process
        function Get-Change([string] $Kind) { @($changes | Where-Object { [string] $_.Change -eq $Kind }) }
    }

    It 'reports each change once, in order, and ends when the instance closes' {
        $ended | Should -BeTrue
        $result.Errors | Should -BeNullOrEmpty
        @($changes | ForEach-Object { [string] $_.Change }) | Should -Be @(
            'Added', 'Added', 'StartedWaiting', 'StoppedWaiting', 'Modified', 'Added', 'Disarmed', 'Rearmed', 'Removed', 'InstanceClosed')
        foreach ($change in $changes) {
            $change.ProcessId | Should -Be $fx.pid
            $change.EpollFd | Should -Be $fx.epoll
        }
        # Times only move forward.
        for ($i = 1; $i -lt $changes.Count; $i++) { $changes[$i].Elapsed | Should -BeGreaterOrEqual $changes[$i - 1].Elapsed }
    }

    It 'gives an addition its fd, mask, data and target' {
        $added = (Get-Change 'Added')[0]
        $added.TargetFd | Should -Be $fx.eventfd_a
        $added.OldEvents | Should -BeNullOrEmpty
        $added.Events | Should -Be ([EpollTools.Core.EpollEvents]'In, Err, Hup')
        $added.Data | Should -Be 0xa
        $added.Target | Should -Match '^eventfd count=0'
        $added.Detail | Should -Be 'IN 0xa'
    }

    It 'gives a modification the mask and data before and after' {
        $modified = Get-Change 'Modified'
        $modified.TargetFd | Should -Be $fx.eventfd_a
        $modified.OldEvents | Should -Be ([EpollTools.Core.EpollEvents]'In, Err, Hup')
        $modified.Events | Should -Be ([EpollTools.Core.EpollEvents]'In, Out, Err, Hup')
        $modified.OldData | Should -Be 0xa
        $modified.Data | Should -Be 0xaa
        $modified.Detail | Should -Be 'IN 0xa -> IN|OUT 0xaa'
    }

    It 'tells a one-shot that fired from one that was re-armed' {
        $disarmed = Get-Change 'Disarmed'
        $disarmed.TargetFd | Should -Be $fx.eventfd_b
        $disarmed.Events | Should -Be ([EpollTools.Core.EpollEvents]::OneShot)
        $disarmed.Detail | Should -Be 'IN|ONESHOT 0xb -> ONESHOT 0xb'
        (Get-Change 'Rearmed').Detail | Should -Be 'ONESHOT 0xb -> IN|ONESHOT 0xb'
    }

    It 'reports the removal with what it removed, and the thread that waited' {
        $removed = Get-Change 'Removed'
        $removed.TargetFd | Should -Be $fx.eventfd_a
        $removed.Detail | Should -Be 'IN|OUT 0xaa'
        $removed.Target | Should -Match '^eventfd'

        $started = Get-Change 'StartedWaiting'
        $started.ThreadName | Should -Be 'waiter'
        $started.ThreadId | Should -Not -Be $fx.pid
        $started.Detail | Should -Be "tid $($started.ThreadId) (waiter) entered epoll_pwait"
        (Get-Change 'StoppedWaiting').ThreadId | Should -Be $started.ThreadId
    }

    It 'renders a line per change in 80 columns, also after serialization' {
        $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($changes))
        foreach ($set in $changes, $copy) {
            $lines = @(($set | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd)
            $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
            $lines | Where-Object { $_ -match '^Time\s' } | Should -Match '^Time\s+Pid\s+Epfd\s+Change\s+Tfd\s+Detail$'
            $lines -match "^\d\d:\d\d:\d\d\.\d{3}\s+$($fx.pid)\s+$($fx.epoll)\s+Modified\s+$($fx.eventfd_a)\s+IN 0xa -> IN\|OUT 0xaa$" | Should -HaveCount 1
        }
    }
}

Describe 'How a trace ends' {
    BeforeAll {
        $fx = Start-Fixture $changerExe ''
    }

    AfterAll { Stop-Helper $fx.Process }

    It 'stops at once on Ctrl+C (PowerShell.Stop), however long it was asked to run' {
        $trace = Start-BackgroundCommand 'Trace-EpollInterest -Id $args[0] -EpollFd $args[1] -Interval 60000' -Argument $fx.pid, $fx.epoll
        try {
            Start-Sleep -Milliseconds 300
            $stop = $trace.Shell.BeginStop($null, $null)
            $stop.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue -Because 'a stopped trace must not wait for its next sample'
        }
        finally { $null = Stop-BackgroundCommand $trace }
    }

    It 'refuses -Follow without -Exact: only the exact trace sees a fork as it happens' {
        $failed = $null
        try { Trace-EpollInterest -Id $fx.pid -Follow -Count 1 } catch { $failed = $_ }
        $failed.FullyQualifiedErrorId | Should -Be 'FollowWithoutExact,EpollTools.Commands.TraceEpollInterestCommand'
        [string] $failed.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failed.ErrorDetails.RecommendedAction | Should -Match '-Exact'
    }

    It 'stops after -Count samples and after -Duration, writing nothing when nothing changes' {
        @(Trace-EpollInterest -Id $fx.pid -EpollFd $fx.epoll -Interval 10 -Count 3) | Should -HaveCount 0
        @(Trace-EpollInterest -Id $fx.pid -EpollFd $fx.epoll -Interval 10 -Duration ([TimeSpan]::FromMilliseconds(50))) | Should -HaveCount 0
    }

    It 'stops the pipeline when a downstream command has what it wants' {
        $trace = Start-BackgroundCommand 'Trace-EpollInterest -Id $args[0] -EpollFd $args[1] -Interval 20 | Select-Object -First 1' -Argument $fx.pid, $fx.epoll
        try {
            Start-Sleep -Milliseconds 200
            Send-Command $fx 'add'
            $trace.Async.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue
        }
        finally { $result = Stop-BackgroundCommand $trace }
        $result.Output.Change | Should -Be 'Added'
    }

    It 'says so when there is nothing to trace, and reports a process that is not there' {
        @(Trace-EpollInterest -Id 999999999 -Count 1 -ErrorVariable problems -ErrorAction SilentlyContinue) | Should -HaveCount 0
        $problems[0].FullyQualifiedErrorId | Should -Be 'NoProcessFoundForGivenId,EpollTools.Commands.TraceEpollInterestCommand'
    }
}
