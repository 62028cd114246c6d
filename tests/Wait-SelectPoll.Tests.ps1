# End-to-end: Wait-Select and Wait-Poll against the real kernel: ready sets for read, write and except (TCP urgent
# data), the sets overwritten, FD_SETSIZE and EBADF refused, timeouts 0, >0 and none (cancelled), poll's unrequested
# HUP, ERR and NVAL, negative fds ignored, and select, poll and epoll agreeing on the same fds.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    # A number that was an fd a moment ago: closed, inside the fd table (where the kernel says EBADF, or NVAL).
    function Get-ClosedFdNumber {
        $efd = New-EventFd
        $number = $efd.Fd
        $efd.Dispose()
        $number
    }
}

AfterAll { Assert-NoFdLeak $fdBaseline }

Describe 'Wait-Select' {
    BeforeEach {
        $pipe = New-Pipe
        $efd = New-EventFd
    }

    AfterEach {
        $pipe.Dispose()
        $efd.Dispose()
    }

    It 'reports the readable fds of the read set, and the writable ones of the write set, one object each' {
        Write-Fd $pipe -Text 'data'
        $ready = @(Wait-Select -Read $pipe.ReadEnd, $efd -Write $pipe.WriteEnd -Timeout 0)
        @($ready | ForEach-Object { "$($_.Fd) $($_.Set)" }) | Should -Be @("$($pipe.ReadEnd.Fd) Read", "$($pipe.WriteEnd.Fd) Write")
    }

    It 'returns the sets overwritten: only the ready fds are left in them' {
        Write-Fd $pipe -Text 'data'
        $result = Wait-Select -Read $pipe.ReadEnd, $efd -Timeout 0 -PassThru
        $result.Count | Should -Be 1
        $result.ReadFds | Should -Be @($pipe.ReadEnd.Fd)
        $result.Nfds | Should -Be ([Math]::Max($pipe.ReadEnd.Fd, $efd.Fd) + 1)
        $result.TimeLeftMilliseconds | Should -Be 0
    }

    It 'reports TCP urgent data in the except set' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $client = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::InterNetwork, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Tcp)
        try {
            $client.Connect($listener.LocalEndpoint)
            $server = $listener.AcceptSocket()
            try {
                @(Wait-Select -Except $server -Timeout 0) | Should -HaveCount 0
                $null = $client.Send([byte[]] @(33), [Net.Sockets.SocketFlags]::OutOfBand)
                $ready = @(Wait-Select -Except $server -Timeout 2000)
                $ready | Should -HaveCount 1
                $ready[0].Fd | Should -Be $server.SafeHandle.DangerousGetHandle().ToInt32()
                [string] $ready[0].Set | Should -Be 'Except'
            }
            finally { $server.Dispose() }
        }
        finally { $client.Dispose(); $listener.Stop() }
    }

    It 'refuses an fd at or above FD_SETSIZE, naming the limit, before any call' {
        { Wait-Select -Read 1024 -Timeout 0 } | Should -Throw -ErrorId 'FdSetSizeExceeded,EpollTools.Commands.WaitSelectCommand'
        try { Wait-Select -Read 3, 1500 -Timeout 0 } catch { $problem = $_ }
        $problem.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $problem.TargetObject | Should -Be 1500
        $problem.Exception.Message | Should -Match 'fds 0 to 1023 only \(FD_SETSIZE\)'
        $problem.ErrorDetails.RecommendedAction | Should -Match 'Wait-Poll or Wait-Epoll'
    }

    It 'reports a closed fd as EBADF, naming it' {
        $closed = Get-ClosedFdNumber
        try { Wait-Select -Read $efd, $closed -Timeout 0 } catch { $problem = $_ }
        $problem.FullyQualifiedErrorId | Should -Be 'BadFileDescriptor,EpollTools.Commands.WaitSelectCommand'
        $problem.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $problem.Exception.Message | Should -Match "fd $closed\b"
    }

    It 'waits the timeout out and says no time is left; with no timeout, blocks until Ctrl+C' {
        # The kernel's own word that the timeout ran out: nothing ready, and no time left in the timeval.
        $result = Wait-Select -Read $efd -Timeout 200 -PassThru
        $result.Count | Should -Be 0
        $result.TimeLeftMilliseconds | Should -Be 0

        $wait = Start-BackgroundCommand 'Wait-Select -Read $args[0]' -Argument $efd
        try {
            Wait-Until { $wait.Shell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
            Start-Sleep -Milliseconds 200
            $wait.Async.IsCompleted | Should -BeFalse -Because 'a select with no timeout blocks'
            $stop = $wait.Shell.BeginStop($null, $null)
            $stop.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue -Because 'Ctrl+C ends the wait'
        }
        finally { $null = Stop-BackgroundCommand $wait }
    }

    It 'gives back the time not slept when an fd becomes ready first' {
        $writer = Start-BackgroundCommand 'Start-Sleep -Milliseconds 300; Write-Fd $args[0] -Value 1' -Argument $efd
        try { $result = Wait-Select -Read $efd -Timeout 10000 -PassThru }
        finally { $null = Stop-BackgroundCommand $writer }
        $result.ReadFds | Should -Be @($efd.Fd)
        $result.TimeLeftMilliseconds | Should -BeGreaterThan 0
        $result.TimeLeftMilliseconds | Should -BeLessThan 10000
    }
}

Describe 'Wait-Poll' {
    It 'returns HUP on a pipe whose writers are gone, though only IN was asked for' {
        $pipe = New-Pipe
        try {
            $pipe.WriteEnd.Dispose()
            $entry = Wait-Poll -Fd $pipe.ReadEnd -Events In -Timeout 0
            $entry.Returned | Should -Be 'HUP'
            $entry.Unrequested | Should -Be 'HUP'
        }
        finally { $pipe.Dispose() }
    }

    It 'returns ERR on a pipe whose readers are gone, beside the OUT asked for' {
        $pipe = New-Pipe
        try {
            $pipe.ReadEnd.Dispose()
            $entry = Wait-Poll -Fd $pipe.WriteEnd -Events Out -Timeout 0
            $entry.Returned | Should -Be 'OUT|ERR'
            $entry.Unrequested | Should -Be 'ERR'
        }
        finally { $pipe.Dispose() }
    }

    It 'says poll takes no more entries than the open-file limit, instead of a bare EINVAL' {
        $limit = [int] [EpollTools.Core.ThisProcess]::OpenFileLimit
        # Negative fds are ignored by the kernel but still count as entries.
        { Wait-Poll -Fd (@(-1) * ($limit + 1)) -Timeout 0 } | Should -Throw -ErrorId 'TooManyPollEntries,EpollTools.Commands.WaitPollCommand'
        try { Wait-Poll -Fd (@(-1) * ($limit + 1)) -Timeout 0 } catch { $problem = $_ }
        $problem.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $problem.ErrorDetails.Message | Should -Match "at most as many entries as the open-file limit \(RLIMIT_NOFILE\), $limit here"
    }

    It 'reports a closed number as NVAL even when the wait''s own eventfd has taken it since' {
        $efd = New-EventFd -InitialValue 1
        try {
            # The number just freed is the lowest: the eventfd that lets Ctrl+C end a blocking wait takes it.
            $closed = Get-ClosedFdNumber
            $result = Wait-Poll -Fd $closed, $efd -Events In -Timeout 1000 -PassThru
            $result.Entries[0].Fd | Should -Be $closed
            $result.Entries[0].Returned | Should -Be 'NVAL'
            $result.Entries[1].Returned | Should -Be 'IN'
            $result.Count | Should -Be 2

            $closed = Get-ClosedFdNumber
            { Wait-Select -Read $efd, $closed -Timeout 1000 } | Should -Throw -ErrorId 'BadFileDescriptor,EpollTools.Commands.WaitSelectCommand'
        }
        finally { $efd.Dispose() }
    }

    It 'returns NVAL for a closed fd instead of failing, ignores a negative fd, and counts the entries with revents' {
        $efd = New-EventFd -InitialValue 1   # first, so that it cannot take the closed number
        $closed = Get-ClosedFdNumber
        try {
            $result = Wait-Poll -Fd $closed, -1, $efd -Events In -Timeout 0 -PassThru
            $result.Count | Should -Be 2
            @($result.Entries.Fd) | Should -Be @($closed, -1, $efd.Fd)
            $result.Entries[0].Returned | Should -Be 'NVAL'
            $result.Entries[1].Ignored | Should -BeTrue
            $result.Entries[1].ReturnedEvents | Should -Be ([EpollTools.Core.EpollEvents]::None)
            $result.Entries[2].Returned | Should -Be 'IN'

            # The entries survive serialization, and the view renders them the same way.
            $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($result.Entries))
            $copy[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.EpollTools.Core.Multiplexers.PollEntryResult'
            $text = $copy | Out-String -Width 80
            $text | Should -Match "(?m)^\s+$closed IN\s+NVAL\s+NVAL\s*$"
            $text | Should -Match '(?m)^\s+-1 IN\s+\(ignored\)\s*$'
        }
        finally { $efd.Dispose() }
    }

    It 'takes entries from the pipeline, each with its own events' {
        $pipe = New-Pipe
        try {
            $entries = @(
                [pscustomobject]@{ Fd = $pipe.ReadEnd.Fd; Events = 'IN|PRI' }
                [pscustomobject]@{ Fd = $pipe.WriteEnd.Fd; Events = 'OUT' })
            $result = @($entries | Wait-Poll -Timeout 0)
            @($result.Requested) | Should -Be @('IN|PRI', 'OUT')
            @($result.Returned) | Should -Be @('', 'OUT')
        }
        finally { $pipe.Dispose() }
    }

    It 'refuses epoll''s own flags, which a pollfd cannot hold' {
        $efd = New-EventFd
        try { { Wait-Poll -Fd $efd -Events In, ET -Timeout 0 } | Should -Throw -ErrorId 'NotAPollEvent,EpollTools.Commands.WaitPollCommand' }
        finally { $efd.Dispose() }
    }

    It 'blocks with no timeout until Ctrl+C' {
        $efd = New-EventFd
        $wait = Start-BackgroundCommand 'Wait-Poll -Fd $args[0]' -Argument $efd
        try {
            Wait-Until { $wait.Shell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
            Start-Sleep -Milliseconds 200
            $wait.Async.IsCompleted | Should -BeFalse
            $stop = $wait.Shell.BeginStop($null, $null)
            $stop.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue
        }
        finally { $null = Stop-BackgroundCommand $wait; $efd.Dispose() }
    }
}

Describe 'select, poll and epoll on the same fds' {
    It 'agree on what is ready' {
        $pipe = New-Pipe
        $empty = New-EventFd
        $pair = New-SocketPair
        $ep = New-EpollInstance
        try {
            Write-Fd $pipe -Text 'data'
            Write-Fd $pair.First -Text 'hello'
            $readers = $pipe.ReadEnd, $empty, $pair.Second
            $writers = $pipe.WriteEnd, $pair.First

            $bySelect = @(Wait-Select -Read $readers -Write $writers -Timeout 0 | ForEach-Object { '{0} {1}' -f $_.Fd, $(if ([string] $_.Set -eq 'Read') { 'IN' } else { 'OUT' }) })
            $byPoll = @(@(Wait-Poll -Fd $readers -Events In -Timeout 0) + @(Wait-Poll -Fd $writers -Events Out -Timeout 0) |
                    Where-Object Returned | ForEach-Object { '{0} {1}' -f $_.Fd, $_.Returned })
            foreach ($fd in $readers) { Add-EpollFd -Instance $ep -Fd $fd -Events In }
            foreach ($fd in $writers) { Add-EpollFd -Instance $ep -Fd $fd -Events Out }
            $byEpoll = @(Wait-Epoll $ep -Timeout 0 | ForEach-Object { '{0} {1}' -f $_.Fd, $_.Flags })

            $expected = @("$($pipe.ReadEnd.Fd) IN", "$($pair.Second.Fd) IN", "$($pipe.WriteEnd.Fd) OUT", "$($pair.First.Fd) OUT") | Sort-Object
            @($bySelect | Sort-Object) | Should -Be $expected
            @($byPoll | Sort-Object) | Should -Be $expected
            @($byEpoll | Sort-Object) | Should -Be $expected
        }
        finally { $ep.Dispose(); $pipe.Dispose(); $empty.Dispose(); $pair.Dispose() }
    }
}

Describe 'about_EpollTools: select, poll and epoll' {
    It 'runs as written, and says what the kernel answers' {
        $page = [IO.File]::ReadAllText([IO.Path]::Combine($PSScriptRoot, '..', 'docs', 'about_EpollTools.md'))
        $section = [regex]::Match($page, '(?ms)^## select, poll and epoll$(.*?)^## ').Groups[1].Value
        $blocks = @([regex]::Matches($section, '(?ms)^```powershell\n(.*?)^```$') | ForEach-Object { $_.Groups[1].Value })
        $blocks | Should -HaveCount 2
        $first = @(. ([scriptblock]::Create($blocks[0])))
        $selected = @($first | Where-Object { $_ -is [EpollTools.Core.Multiplexers.SelectReadyFd] })
        $polled = @($first | Where-Object { $_ -is [EpollTools.Core.Multiplexers.PollEntryResult] })
        $waited = @($first | Where-Object { $_ -is [EpollTools.Core.EpollEvent] })
        @($selected.Fd) | Should -Be @($pipe.ReadEnd.Fd)
        @($polled | ForEach-Object { "$($_.Fd) $($_.Returned)" }) | Should -Be @("$($pipe.ReadEnd.Fd) IN", "$($efd.Fd) ")
        @($waited.Fd) | Should -Be @($pipe.ReadEnd.Fd)

        $second = @(. ([scriptblock]::Create($blocks[1])))
        @($second | Where-Object { $_ -is [EpollTools.Core.Proc.EpollInterest] }) | Should -HaveCount 2
        @($second | Where-Object { $_ -is [EpollTools.Core.EpollEvent] } | ForEach-Object Fd) | Should -Be @($pipe.ReadEnd.Fd)
        $ep.IsClosed | Should -BeTrue
    }
}
