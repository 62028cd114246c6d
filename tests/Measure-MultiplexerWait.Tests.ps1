# End-to-end: Measure-MultiplexerWait aggregates epoll, poll and select waits in the kernel through bpftrace (Debian's
# package; .ci/run installs it and mounts tracefs), on fixtures whose numbers are known: tests/fixtures/exact-sequence.c
# (n waits of exactly k events each, each of the seven calls, a loop of zero-timeout waits) and
# tests/fixtures/exclusive-workers.c (four EPOLLEXCLUSIVE workers sharing a listening socket).

BeforeDiscovery {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    $why = Get-BpfObstacle
    if ($why) { Write-Host "Measure-MultiplexerWait tests skipped: $why." }
}

Describe 'Measure-MultiplexerWait' -Skip:([bool] $why) {
    BeforeAll {
        Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
        Import-EpollTools
        $fdBaseline = Get-ModuleKindFd
        $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
        $workDir = New-WorkDirectory
        $sequenceExe = Build-Fixture 'exact-sequence' $workDir
        $workersExe = Build-Fixture 'exclusive-workers' $workDir

        # Measures the fixture in a thread job; the fixture starts its waits once the measurement says it is attached.
        function Measure-Shape([string] $Arguments, [int] $Duration = 3000, [string] $By = 'Thread') {
            $fixture = Start-Fixture $sequenceExe $Arguments
            try {
                $job = Start-ThreadJob { param($m, $id, $d, $by) Import-Module $m; Measure-MultiplexerWait -Id $id -Duration $d -By $by } -ArgumentList $manifest, $fixture.pid, $Duration, $By
                Wait-Until { $job.Information.Count -gt 0 -or $job.State -notin 'NotStarted', 'Running' } -LimitMs 60000 | Should -BeTrue
                $job.Information.Count | Should -Be 1 -Because "the measurement says it is attached first ($($job.Error))"
                $fixture.Process.StandardInput.WriteLine('go')
                $fixture.Process.StandardInput.Flush()
                $said = @{}
                while (($line = $fixture.Process.StandardOutput.ReadLine()) -ne 'done') {
                    if ($null -eq $line) { throw 'the fixture ended early' }
                    $name, $value = $line -split ' ', 2
                    $said[$name] = $value
                }
                $stats = @($job | Wait-Job -Timeout ($Duration / 1000 + 30) | Receive-Job)
                $job.Error | Should -BeNullOrEmpty
                [pscustomobject]@{ Statistics = $stats; Pid = $fixture.pid; Fixture = $said }
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

    It 'counts 200 wakeups of exactly 5 events each in one histogram bucket' {
        $run = Measure-Shape 'wakeups 200 5'
        $run.Statistics | Should -HaveCount 1
        $s = $run.Statistics[0]
        $s.ProcessId | Should -Be $run.Pid
        $s.ThreadId | Should -Be $run.Pid
        $s.ProcessName | Should -Be 'exact-sequence'
        $s.Calls | Should -Be 200
        $s.WithEvents | Should -Be 200
        $s.TimedOut | Should -Be 0
        $s.ZeroTimeout | Should -Be 0
        $s.Errors | Should -Be 0
        @($s.EventsPerWakeup.Buckets) | Should -HaveCount 1
        $s.EventsPerWakeup.Buckets[0].Min | Should -Be 4
        $s.EventsPerWakeup.Buckets[0].Max | Should -Be 7
        $s.EventsPerWakeup.Buckets[0].Count | Should -Be 200
        $s.BlockedMicroseconds.Total | Should -Be 200
        $s.HandlerMicroseconds.Total | Should -Be 199 -Because 'the time between a return and the next wait, 199 times for 200 waits'
        $s.Finding | Should -BeNullOrEmpty
    }

    It 'measures each of the seven calls side by side, an epoll call per instance, with their timeouts told apart' {
        $run = Measure-Shape 'mechanisms 10'
        $epollReady = [int] $run.Fixture['epoll_ready']
        $epollIdle = [int] $run.Fixture['epoll_idle']
        $rows = @($run.Statistics | Where-Object ThreadId -eq $run.Pid)
        $rows | Should -HaveCount 10 -Because 'three epoll calls on two instances each, and four poll and select calls'
        @($rows.Call) | Should -Be @('epoll_wait', 'epoll_wait', 'epoll_pwait', 'epoll_pwait', 'epoll_pwait2', 'epoll_pwait2', 'poll', 'ppoll', 'select', 'pselect6')
        foreach ($call in 'epoll_wait', 'epoll_pwait', 'epoll_pwait2') {
            $ready = $rows | Where-Object { $_.Call -eq $call -and $_.EpollFd -eq $epollReady }
            $ready.Calls, $ready.WithEvents, $ready.TimedOut, $ready.ZeroTimeout | Should -Be 10, 10, 0, 0 -Because "$call waited 10 times with no timeout on a readable eventfd"
            $idle = $rows | Where-Object { $_.Call -eq $call -and $_.EpollFd -eq $epollIdle }
            $idle.Calls, $idle.WithEvents, $idle.TimedOut, $idle.ZeroTimeout | Should -Be 2, 0, 1, 1 -Because "$call waited once 1 ms and once with a zero timeout"
        }
        foreach ($call in 'poll', 'ppoll', 'select', 'pselect6') {
            $row = $rows | Where-Object Call -eq $call
            $row.EpollFd | Should -BeNullOrEmpty
            $row.Calls, $row.WithEvents, $row.TimedOut, $row.ZeroTimeout, $row.Errors | Should -Be 12, 10, 1, 1, 0 -Because "${call}: 10 ready, 1 timed out, 1 zero timeout"
            ($row.EventsPerWakeup.Buckets | Where-Object Min -eq 1).Count | Should -Be 10
            ($row.EventsPerWakeup.Buckets | Where-Object Min -eq 0).Count | Should -Be 2
        }
    }

    It 'counts the events of each registration by mask and thread (-By Registration), matched to its fd by data' {
        $run = Measure-Shape 'wakeups 50 3' -By Registration
        $rows = @($run.Statistics)
        $rows | Should -HaveCount 3
        foreach ($i in 0..2) {
            $row = $rows | Where-Object Data -eq $i
            $row.ProcessId | Should -Be $run.Pid
            $row.EpollFd | Should -Be ([int] $run.Fixture['epoll'])
            $row.Fd | Should -Be ([int] $run.Fixture["eventfd$i"]) -Because "data $i was registered for eventfd$i"
            $row.Target | Should -Match '^eventfd'
            $row.Registered.HasFlag([EpollTools.Core.EpollEvents]::In) | Should -BeTrue
            $row.Events | Should -Be 50
            @($row.ByMask) | Should -HaveCount 1
            $row.ByMask[0].Flags | Should -Be 'IN'
            $row.ByMask[0].Count | Should -Be 50
            @($row.ByThread) | Should -HaveCount 1
            $row.ByThread[0].ThreadId | Should -Be $run.Pid
            $row.ByThread[0].Share | Should -Be 1
            $row.Note | Should -BeNullOrEmpty
        }
        $text = $rows | Out-String -Width 80
        ($text -split "`n" | Where-Object { $_.TrimEnd().Length -gt 80 }) | Should -BeNullOrEmpty
        $text | Should -Match "(?m)^ +$($run.Pid) +$($run.Fixture['epoll']) +$($run.Fixture['eventfd0']) +50 IN 50 +eventfd"
    }

    It 'tells which of four EPOLLEXCLUSIVE workers received a shared listening socket''s connections (-By SharedFile)' {
        $fixture = Start-Fixture $workersExe ''
        try {
            $workers = 1..4 | ForEach-Object { $fixture["worker$_"] }
            $job = Start-ThreadJob { param($m, $ids) Import-Module $m; Measure-MultiplexerWait -Id $ids -Duration 3000 -By SharedFile } -ArgumentList $manifest, $workers
            Wait-Until { $job.Information.Count -gt 0 -or $job.State -notin 'NotStarted', 'Running' } -LimitMs 60000 | Should -BeTrue
            $job.Information.Count | Should -Be 1 -Because "the measurement says it is attached first ($($job.Error))"
            Start-Sleep -Milliseconds 200 # the workers' waits (50 ms timeouts) begin again under the probes
            $fixture.Process.StandardInput.WriteLine('connect 40')
            $fixture.Process.StandardInput.Flush()
            $woke = @{}; $accepted = @{}; $missed = 0
            while (($line = $fixture.Process.StandardOutput.ReadLine()) -ne 'done') {
                if ($null -eq $line) { throw 'the fixture ended early' }
                $what, [int] $id = $line -split ' ', 2
                switch ($what) {
                    'woke' { $woke[$id] = 1 + $woke[$id] }
                    'accepted' { $accepted[$id] = 1 + $accepted[$id] }
                    'missed' { $missed++ }
                }
            }
            $files = @($job | Wait-Job -Timeout 40 | Receive-Job)
            $job.Error | Should -BeNullOrEmpty
        }
        finally {
            Stop-Helper $fixture.Process
            if ($job) { $job | Remove-Job -Force }
        }

        ($accepted.Values | Measure-Object -Sum).Sum | Should -Be 40 -Because 'every connection made was accepted once'
        $files | Should -HaveCount 1
        $file = $files[0]
        $file.Target | Should -Be "TCP 127.0.0.1:$($fixture.port) LISTEN"
        $file.Watchers | Should -Be 4
        $file.Exclusive | Should -BeTrue
        $file.Events | Should -Be (40 + $missed) -Because 'one wakeup a connection, and one for each accept another worker beat'
        foreach ($id in $workers) {
            $got = @($file.Receivers | Where-Object ProcessId -eq $id)
            $got | Should -HaveCount 1
            if ($woke[$id]) {
                $got[0].ThreadId | Should -Be $id
                $got[0].Events | Should -Be $woke[$id] -Because "worker $id saw its waits return the socket $($woke[$id]) times"
            }
            else {
                $got[0].ThreadId | Should -BeNullOrEmpty
                $got[0].Events | Should -Be 0
            }
        }

        $top = $woke.GetEnumerator() | Sort-Object Value -Descending | Select-Object -First 1
        if ($top.Value -ge 0.9 * $file.Events) {
            $file.Finding | Should -Match "^one of 4 watchers, $($top.Key) \(exclusive-worke\) thread $($top.Key), received $($top.Value) of $($file.Events) events"
        }
        else {
            $file.Finding | Should -BeNullOrEmpty -Because 'no worker received nine in ten'
        }

        $text = $file | Out-String -Width 80
        ($text -split "`n" | Where-Object { $_.TrimEnd().Length -gt 80 }) | Should -BeNullOrEmpty
        $text | Should -Match "(?m)^Watchers +: 4 epoll instances, every one EPOLLEXCLUSIVE$"
        $back = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($file, 3))
        ($back | Out-String -Width 80) | Should -Be $text
    }

    It 'names a loop of zero-timeout waits as busy polling' {
        $run = Measure-Shape 'busy 5000'
        $s = $run.Statistics | Where-Object ThreadId -eq $run.Pid
        $s.Calls | Should -Be 5000
        $s.ZeroTimeout | Should -Be 5000
        $s.WithEvents | Should -Be 0
        $s.TimedOut | Should -Be 0 -Because 'a zero timeout is a poll, not a timeout that passed'
        $s.EventsPerWakeup.Buckets[0].Min | Should -Be 0
        $s.EventsPerWakeup.Buckets[0].Count | Should -Be 5000
        $s.Finding | Should -Match '^busy polling: 5000 of 5000 waits had a zero timeout'
    }

    It 'shows the histograms as text bars at 80 columns, and survives serialization' {
        $run = Measure-Shape 'wakeups 50 3' 2000
        $text = $run.Statistics | Out-String -Width 80
        $lines = $text -split "`n" | ForEach-Object TrimEnd
        $lines | Where-Object Length -gt 80 | Should -BeNullOrEmpty
        $text | Should -Match 'EventsPerWakeup'
        $text | Should -Match '(?m)^EventsPerWakeup : +2-3 +50 █{30}$'
        $back = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($run.Statistics[0], 3))
        $back.Calls | Should -Be 50
        ($back | Out-String -Width 80) | Should -Match '(?m)^EventsPerWakeup : +2-3 +50 █{30}$'
    }

    It 'lists a thread that waited through the whole measurement, as waiting, not as nothing' {
        $fixture = Start-Fixture $sequenceExe 'waiting'
        try {
            $stats = @(Measure-MultiplexerWait -Id $fixture.pid -Duration 1000 -InformationAction Ignore)
            $stats | Should -HaveCount 1
            $stats[0].ThreadId | Should -Be $fixture.waiter
            $stats[0].ThreadName | Should -Be 'waiter'
            $stats[0].EpollFd | Should -Be $fixture.epoll
            $stats[0].Calls | Should -Be 0
            $stats[0].Finding | Should -Be 'in epoll_wait when the measurement ended, and no wait of it returned during it: no event came'
        }
        finally { Stop-Helper $fixture.Process }
    }

    It 'says a thread stopped in its wait was held there, not that no event came' {
        $fixture = Start-Fixture $sequenceExe 'waiting'
        try {
            & kill -STOP $fixture.pid
            Wait-Until { (Get-Content "/proc/$($fixture.pid)/task/$($fixture.waiter)/stat" -Raw) -match '\) T ' } | Should -BeTrue
            $stats = @(Measure-MultiplexerWait -Id $fixture.pid -Duration 500 -InformationAction Ignore)
            $stats | Should -HaveCount 1
            $stats[0].ThreadId | Should -Be $fixture.waiter
            $stats[0].Calls | Should -Be 0
            $stats[0].Finding | Should -Be 'stopped by a signal, in epoll_wait: no wait could return during the measurement, whatever was ready'
        }
        finally {
            & kill -CONT $fixture.pid
            Stop-Helper $fixture.Process
        }
    }

    It 'refuses without bpftrace on PATH, naming the package' {
        $path = $env:PATH
        try {
            $env:PATH = $workDir
            $failed = $null
            try { Measure-MultiplexerWait -Id $PID -Duration 1000 } catch { $failed = $_ }
        }
        finally { $env:PATH = $path }
        $failed.FullyQualifiedErrorId | Should -Be 'BpftraceNotInstalled,EpollTools.Commands.MeasureMultiplexerWaitCommand'
        [string] $failed.CategoryInfo.Category | Should -Be 'NotInstalled'
    }
}
