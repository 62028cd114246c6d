# End-to-end regressions of wrong answers, hangs and raw errors: empty pipeline input, closing under a waiter, the
# wrong pipe end, stale rows under churn, the open-file limit, processes with no epoll fd, bad -Name patterns, and
# huge wait buffers. Anything that could hang runs in a second runspace with a bounded wait.

BeforeDiscovery {
    # As root, a process root may still not read: one in a user namespace this one does not own (on this machine,
    # pid 1 of the sandbox), or one a security module guards.
    $unreadableToRoot = @(if ([Environment]::UserName -eq 'root') {
            foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
                $name = [IO.Path]::GetFileName($dir)
                if ($name -match '^\d+$') {
                    # The fd directory lists for root; its links and fdinfo are what ptrace access guards.
                    try { $null = [IO.File]::ReadAllText("$dir/fdinfo/0"); continue } catch [UnauthorizedAccessException] { @{ Unreadable = [int] $name }; break } catch { continue }
                }
            }
        })
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory

    # Runs -Script in another runspace; its result once it ended, or a failure if it is still running after 10 s.
    function Invoke-Bounded([string] $Script, [object[]] $Argument = @()) {
        $background = Start-BackgroundCommand $Script -Argument $Argument
        $ended = Wait-Until { $background.Async.IsCompleted }
        $result = Stop-BackgroundCommand $background
        $ended | Should -BeTrue -Because 'the call must end, not hang'
        $result
    }
}

AfterAll {
    try { [IO.Directory]::Delete($workDir, $true) }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Empty pipeline input' {
    BeforeAll {
        # This process has an epoll instance with a registration, so "this process" would show rows.
        $ep = New-EpollInstance
        $efd = New-EventFd
        Add-EpollFd -Instance $ep -Fd $efd
    }

    AfterAll {
        Close-EpollInstance $ep
        Close-Fd $efd
    }

    It 'is no process for Get-EpollInterest, not this one' {
        @(Get-Process -Name 'no-such-process-epolltools' -ErrorAction Ignore | Get-EpollInterest) | Should -HaveCount 0
        @(@() | Get-EpollInterest) | Should -HaveCount 0
        # With no input at all, the default still applies.
        @(Get-EpollInterest -EpollFd $ep.Fd | Where-Object ProcessId -eq $PID) | Should -HaveCount 1
    }

    It 'is no process for Get-FdInfo, not this one' {
        @(Get-Process -Name 'no-such-process-epolltools' -ErrorAction Ignore | Get-FdInfo) | Should -HaveCount 0
        @(@() | Get-FdInfo) | Should -HaveCount 0
        @(Get-FdInfo -Fd $efd.Fd) | Should -HaveCount 1
    }
}

Describe 'Closing an epoll instance while another runspace waits on it' {
    It 'wakes the waiter with EpollInstanceClosed and closes the fd once it is out' {
        $before = (Get-ModuleKindFd).Count
        $ep = New-EpollInstance
        $wait = Start-BackgroundCommand 'Wait-Epoll -Instance $args[0] -Timeout -1' -Argument $ep
        try {
            Wait-Until { $wait.Shell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
            Close-EpollInstance $ep
            $ep.IsClosed | Should -BeTrue
            Wait-Until { $wait.Async.IsCompleted } | Should -BeTrue -Because 'closing must wake the waiter'
        }
        finally { $result = Stop-BackgroundCommand $wait }
        $result.Output | Should -HaveCount 0
        $result.Errors | Should -HaveCount 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'EpollInstanceClosed,*'
        (Get-ModuleKindFd).Count | Should -Be $before
    }

    It 'refuses a wait that starts after the close' {
        $ep = New-EpollInstance
        Close-EpollInstance $ep
        { Wait-Epoll $ep -Timeout -1 -ErrorAction Stop } | Should -Throw -ErrorId 'EpollInstanceClosed,*'
    }
}

Describe 'Reading and writing the wrong end of a pipe' {
    It 'refuses a blocking write to the read end at once: <Case>' -ForEach @(
        @{ Case = 'blocking'; NonBlocking = $false }
        @{ Case = 'non-blocking'; NonBlocking = $true }
    ) {
        $pipe = New-Pipe -NonBlocking:$NonBlocking
        try {
            $result = Invoke-Bounded 'Write-Fd $args[0].ReadEnd -Text x' -Argument $pipe
            $result.Errors | Should -HaveCount 1
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'FdNotOpenForWriting,*'
            $result.Errors[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $result.Errors[0].Exception.Message | Should -Match 'open for reading only'
            $result.Errors[0].ErrorDetails.RecommendedAction | Should -Match 'WriteEnd'
        }
        finally { Close-Fd $pipe }
    }

    It 'refuses a blocking read of the write end at once' {
        $pipe = New-Pipe
        try {
            $result = Invoke-Bounded 'Read-Fd $args[0].WriteEnd' -Argument $pipe
            $result.Errors | Should -HaveCount 1
            $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'FdNotOpenForReading,*'
        }
        finally { Close-Fd $pipe }
    }

    It 'wakes a blocked reader when another runspace closes the fd' {
        $pipe = New-Pipe
        $read = Start-BackgroundCommand 'Read-Fd $args[0].ReadEnd' -Argument $pipe
        try {
            Wait-Until { $read.Shell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
            Close-Fd $pipe
            Wait-Until { $read.Async.IsCompleted } | Should -BeTrue -Because 'closing must wake the reader'
        }
        finally { $result = Stop-BackgroundCommand $read }
        $result.Output | Should -HaveCount 0
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'FdClosed,*'
    }
}

Describe 'Closing an fd that Wait-Poll or Wait-Select waits on' {
    It 'wakes <Command> at once with FdClosed, and reports nothing about the closed number' -ForEach @(
        @{ Command = 'Wait-Poll'; Script = 'Wait-Poll $args[0].ReadEnd, $args[1] -Timeout -1' },
        @{ Command = 'Wait-Select'; Script = 'Wait-Select -Read $args[0].ReadEnd, $args[1] -Timeout -1' }) {
        $pipe = New-Pipe
        $efd = New-EventFd
        $wait = Start-BackgroundCommand $Script -Argument $pipe, $efd
        try {
            Wait-Until { $wait.Shell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
            # Let it reach the kernel, then close the pipe: its number must not be reported (it may be reused at once).
            Wait-Until { @(Get-MultiplexerWait -Id $PID | Where-Object { $_.Call -in 'poll', 'pselect6', 'select' -and $_.Fds.Fd -contains $pipe.ReadEnd.Fd }).Count -gt 0 } | Should -BeTrue
            Close-Fd $pipe
            Wait-Until { $wait.Async.IsCompleted } 5000 | Should -BeTrue -Because 'closing an fd must wake the wait'
        }
        finally {
            $result = Stop-BackgroundCommand $wait
            Close-Fd $efd
        }
        $result.Output | Should -HaveCount 0
        $result.Errors | Should -HaveCount 1
        $result.Errors[0].FullyQualifiedErrorId | Should -BeLike 'FdClosed,*'
        $result.Errors[0].Exception.Message | Should -Match "fd $($pipe.ReadEnd.Fd) was closed while the call waited on it"
    }
}

Describe 'Stale registrations of a process that keeps changing its fds' {
    BeforeAll {
        $churnExe = Build-Fixture 'epoll-churn' $workDir
        $churn = Start-Helper $churnExe ''
        $churnPid, $churnEpfd = $churn.StandardOutput.ReadLine().Split(' ')
    }

    AfterAll { Stop-Helper $churn }

    It 'never describes a registered eventfd as another file while numbers are reused by files of every kind, and names no unproven target' {
        # The fixture registers only eventfds and lets pipes, sockets, timerfds, signalfds, epoll fds, /dev/null,
        # inotify fds, memfds and dup3 take the numbers they leave: a row naming any other kind is a wrong answer,
        # and a row that could not prove its file (Unknown) must say so rather than name what the number is now.
        $rows = 0
        $stillOpen = 0
        $unknown = 0
        $wrong = [Collections.Generic.List[string]]::new()
        $watch = [Diagnostics.Stopwatch]::StartNew()
        for ($pass = 0; $watch.ElapsedMilliseconds -lt 3000 -or $pass -lt 40; $pass++) {
            $read = if ($pass % 2) { Get-EpollInterest -Id $churnPid -EpollFd $churnEpfd -Readiness -SettleInterval 0 } else { Get-EpollInterest -Id $churnPid -EpollFd $churnEpfd }
            foreach ($row in $read) {
                $rows++
                $said = "fd $($row.TargetFd) $($row.State) $($row.TargetKind) '$($row.Target)'"
                if ($row.TargetKind -eq 'Unknown') {
                    $unknown++
                    # Every registered file stays open (as a dup) while it is registered: "not open" is wrong here too.
                    if ($row.State -ne 'Unknown' -or -not $row.Target.StartsWith('unproven: ')) { $wrong.Add($said) }
                }
                elseif ($row.TargetKind -ne 'EventFd') { $wrong.Add($said) }
                if ($null -ne $row.StillOpenAs) { $stillOpen++ }
            }
        }
        Write-Host "    fd-kind churn: $rows rows in $pass reads, $unknown unproven, $stillOpen stale but still open, $($wrong.Count) wrong"
        $wrong | Should -BeNullOrEmpty -Because "$($wrong.Count) of $rows rows named another kind or an unproven target"
        $rows | Should -BeGreaterThan 1000
        $stillOpen | Should -BeGreaterThan 0
    }

    It 'matches kcmp exactly, row by row, once it holds still' {
        $churn.StandardInput.Write('p')
        $churn.StandardInput.Flush()
        $churn.StandardOutput.ReadLine() | Should -Be 'paused'
        try {
            $rows = @(Get-EpollInterest -Id $churnPid -EpollFd $churnEpfd)
            $rows.Count | Should -BeGreaterThan 0
            $kernelLines = @([IO.File]::ReadAllLines("/proc/$churnPid/fdinfo/$churnEpfd") | Where-Object { $_ -like 'tfd:*' })
            $rows | Should -HaveCount $kernelLines.Count
            # Rows come in the kernel's order within one tfd number, so a row's kcmp offset is its index among them.
            $seen = @{}
            foreach ($row in $rows) {
                $offset = [int] $seen[$row.TargetFd]
                $seen[$row.TargetFd] = $offset + 1
                $registered = [EpollTools.Core.ProcFiles.FileIdentity]::SameEpollTarget($churnPid, $row.TargetFd, $churnPid, $churnEpfd, $row.TargetFd, $offset)
                if ($row.State -eq 'Current') {
                    $registered | Should -BeTrue
                    $row.TargetKind | Should -Be 'EventFd'
                }
                else {
                    $row.State | Should -Be 'Stale'
                    $registered | Should -Not -BeTrue
                    $row.StillOpenAs | Should -Not -BeNullOrEmpty
                    [EpollTools.Core.ProcFiles.FileIdentity]::SameEpollTarget($churnPid, $row.StillOpenAs, $churnPid, $churnEpfd, $row.TargetFd, $offset) | Should -BeTrue
                    $row.TargetKind | Should -Be 'EventFd'
                }
            }
        }
        finally {
            $churn.StandardInput.Write('r')
            $churn.StandardInput.Flush()
        }
    }
}

Describe 'At the open-file limit' {
    It 'says "too many open files" with the limit, for every cmdlet that needs an fd' {
        # A pwsh with a low limit fills its fd table with eventfds, then calls each cmdlet once more. Each was run
        # once before, so that loading its code needs no new fd.
        $script = @'
$ep = New-EpollInstance; $pipe = New-Pipe
$null = Get-FdInfo -Fd 0; $null = Get-EpollInterest -EpollFd $ep.Fd; $null = Wait-Epoll $ep -Timeout 1
Write-Fd $pipe -Text x; $null = Read-Fd $pipe
$held = [Collections.Generic.List[object]]::new()
while ($true) { try { $held.Add((New-EventFd -ErrorAction Stop)) } catch { 'FILL=' + $_.FullyQualifiedErrorId; break } }
$calls = [ordered]@{
    GetFdInfo = { Get-FdInfo -ErrorAction Stop }
    GetEpollInterest = { Get-EpollInterest -ErrorAction Stop }
    WaitEpoll = { Wait-Epoll $ep -Timeout 10 -ErrorAction Stop }
    ReadFd = { Read-Fd $pipe -ErrorAction Stop }
    WriteFd = { Write-Fd $pipe -Text y -ErrorAction Stop }
}
foreach ($name in $calls.Keys) {
    try { $null = & $calls[$name]; "$name=no error" }
    catch { "$name=" + $_.FullyQualifiedErrorId + '|' + $_.CategoryInfo.Category + '|' + $_.ErrorDetails.Message }
}
$held | ForEach-Object { $_.Dispose() }
'@
        $scriptPath = [IO.Path]::Combine($workDir, 'fd-limit.ps1')
        [IO.File]::WriteAllText($scriptPath, "Import-Module '$([IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1'))'`n$script")
        $pwsh = [IO.Path]::Combine($PSHOME, 'pwsh.dll')
        $lines = @(& bash -c "ulimit -n 512 && exec dotnet '$pwsh' -NoProfile -NonInteractive -File '$scriptPath'" 2>&1 | ForEach-Object { "$_" })
        $lines | Should -Contain 'FILL=TooManyOpenFiles,EpollTools.Commands.NewEventFdCommand'
        foreach ($name in 'GetFdInfo', 'GetEpollInterest', 'WaitEpoll', 'ReadFd', 'WriteFd') {
            $line = @($lines | Where-Object { $_ -like "$name=*" })
            $line | Should -HaveCount 1 -Because ($lines -join "`n")
            $line[0] | Should -BeLike "$name=TooManyOpenFiles,EpollTools.Commands.*|LimitsExceeded|*too many open files*limit (RLIMIT_NOFILE) is 512*"
        }
    }

    It 'never throws a raw .NET exception there, even from cmdlets not run before, and recovers once fds are free' {
        # Nothing is run before the table is full: what a cmdlet loads on first use (assemblies, type initializers)
        # must already be loaded, and a type that failed to initialize would fail for the rest of the session.
        $script = @'
$held = [Collections.Generic.List[object]]::new()
while ($true) { try { $held.Add((New-EventFd -ErrorAction Stop)) } catch { break } }
$calls = [ordered]@{
    MeasureMultiplexer = { Measure-Multiplexer -Count 8 -Active 1 -ErrorAction Stop }
    TargetPort = { Get-EpollInterest -TargetPort 9 -ErrorAction Stop -WarningAction SilentlyContinue }
    WaitSelect = { Wait-Select -Read $held[0] -Timeout 0 -ErrorAction Stop }
    WaitPoll = { Wait-Poll -Fd $held[0] -Timeout 0 -ErrorAction Stop }
    MultiplexerWaitAll = { Get-MultiplexerWait -All -ErrorAction Stop -WarningAction SilentlyContinue }
    Readiness = { Get-EpollInterest -Id $PID -Readiness -ErrorAction Stop }
}
function Invoke-All([string] $When) {
    foreach ($name in $calls.Keys) {
        try { $null = & $calls[$name]; "$When $name=no error" }
        catch { "$When $name=" + $_.FullyQualifiedErrorId + '|' + $_.Exception.GetType().FullName }
    }
}
Invoke-All 'full'
for ($i = 0; $i -lt 150; $i++) { $held[$held.Count - 1].Dispose(); $held.RemoveAt($held.Count - 1) }
Invoke-All 'freed'
$held | ForEach-Object { $_.Dispose() }
'@
        $scriptPath = [IO.Path]::Combine($workDir, 'fd-limit-first-use.ps1')
        [IO.File]::WriteAllText($scriptPath, "Import-Module '$([IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1'))'`n$script")
        $pwsh = [IO.Path]::Combine($PSHOME, 'pwsh.dll')
        $lines = @(& bash -c "ulimit -n 512 && exec dotnet '$pwsh' -NoProfile -NonInteractive -File '$scriptPath'" 2>&1 | ForEach-Object { "$_" })
        foreach ($name in 'MeasureMultiplexer', 'TargetPort', 'WaitSelect', 'WaitPoll', 'MultiplexerWaitAll', 'Readiness') {
            $full = @($lines | Where-Object { $_ -like "full $name=*" })
            $full | Should -HaveCount 1 -Because ($lines -join "`n")
            # An error of the module's own (TooManyOpenFiles, FdLimitExceeded), or none: never a .NET exception's id.
            $full[0] | Should -Match "^full $name=(no error|(TooManyOpenFiles|FdLimitExceeded),EpollTools\.Commands\.\w+\|)" -Because ($lines -join "`n")
            # With fds free again, each works (port 9 is watched by nobody: that is the answer, not a failure).
            @($lines | Where-Object { $_ -like "freed $name=*" }) | Should -Match "^freed $name=(no error|TargetNotWatched,EpollTools\.Commands\.\w+\|)" -Because ($lines -join "`n")
        }
    }
}

Describe 'A process root may not read' {
    It 'is refused with the real cause, not advice to run as root' -ForEach $unreadableToRoot {
        try { Get-EpollInterest -Id $Unreadable -ErrorAction Stop; $problem = $null } catch { $problem = $_ }
        $problem.FullyQualifiedErrorId | Should -Be 'ProcessAccessDenied,EpollTools.Commands.GetEpollInterestCommand'
        $problem.ErrorDetails.RecommendedAction | Should -Match '^This is root already: .*user namespace this one does not own'
        $problem.ErrorDetails.RecommendedAction | Should -Not -Match 'Run as the same user'
    }
}

Describe 'A process with no epoll fd' {
    BeforeAll {
        $sleeper = [Diagnostics.Process]::Start('/bin/sleep', '600')
        $sleeper2 = [Diagnostics.Process]::Start('/bin/sleep', '600')
    }

    AfterAll {
        foreach ($p in $sleeper, $sleeper2) { $p.Kill(); $p.WaitForExit(); $p.Dispose() }
    }

    It 'is named in a warning when it is the one process asked for' {
        $rows = @(Get-EpollInterest -Id $sleeper.Id -WarningVariable warnings -WarningAction SilentlyContinue)
        $rows | Should -HaveCount 0
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike "Process $($sleeper.Id) (sleep) has no epoll fd*Get-FdInfo -Id $($sleeper.Id)*"
    }

    It 'is named in a verbose line each when several are asked for' {
        $verbose = @(Get-EpollInterest -Id $sleeper.Id, $sleeper2.Id -Verbose -WarningVariable warnings 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] })
        $warnings | Should -HaveCount 0
        @($verbose | Where-Object { $_.Message -like "Process $($sleeper.Id) (sleep) has no epoll fd*" }) | Should -HaveCount 1
        @($verbose | Where-Object { $_.Message -like "Process $($sleeper2.Id) (sleep) has no epoll fd*" }) | Should -HaveCount 1
    }
}

Describe 'A -Name that is not a valid wildcard pattern' {
    It 'is an InvalidNamePattern error naming the pattern, and the other names still run' {
        # This process, by its name, has an instance with one registration: the valid name must still find it.
        $ep = New-EpollInstance
        $efd = New-EventFd
        Add-EpollFd $ep $efd
        $ownName = [IO.File]::ReadAllText("/proc/$PID/comm").TrimEnd("`n")
        $errors = $null
        $rows = @(Get-EpollInterest -Name '[', $ownName -ErrorAction SilentlyContinue -ErrorVariable errors -WarningAction SilentlyContinue)
        Close-EpollInstance $ep; Close-Fd $efd
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidNamePattern,EpollTools.Commands.GetEpollInterestCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $errors[0].TargetObject | Should -Be '['
        $errors[0].ErrorDetails.RecommendedAction | Should -Match 'backtick'
        @($rows | Where-Object { $_.ProcessId -eq $PID -and $_.EpollFd -eq $ep.Fd }) | Should -HaveCount 1
        { Get-EpollInterest -Name '[' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidNamePattern,*'
    }

    It 'marks -Name as taking wildcards' {
        (Get-Command Get-EpollInterest).Parameters['Name'].Attributes.Where({ $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }) | Should -HaveCount 1
    }
}

Describe 'A huge -MaxEvents' {
    It 'allocates and keeps no buffer for events that cannot come' {
        $ep = New-EpollInstance
        $efd = New-EventFd -InitialValue 1
        try {
            Add-EpollFd -Instance $ep -Fd $efd
            $before = [GC]::GetTotalMemory($true)
            $events = @(Wait-Epoll $ep -MaxEvents 16777216 -Timeout 0)
            $events | Should -HaveCount 1
            $events[0].Fd | Should -Be $efd.Fd
            # 16,777,216 events of 12 bytes would be 192 MiB; the instance has one registration.
            ([GC]::GetTotalMemory($true) - $before) | Should -BeLessThan 64MB
        }
        finally {
            Close-EpollInstance $ep
            Close-Fd $efd
        }
    }
}
