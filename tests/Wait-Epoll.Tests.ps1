# End-to-end: waiting on real fds. Level- vs edge-triggered, one-shot, timeouts and cancellation.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    # The mask the kernel holds for one registration, from /proc/self/fdinfo/<epfd>.
    function Get-KernelMask([int] $EpollFd, [int] $TargetFd) {
        foreach ($line in [IO.File]::ReadAllLines("/proc/self/fdinfo/$EpollFd")) {
            if ($line -match "^tfd:\s*$TargetFd\s+events:\s*([0-9a-f]+)") { return [Convert]::ToUInt32($Matches[1], 16) }
        }
        $null
    }

    # Starts Wait-Epoll in a second runspace of this process, as a user's interactive wait would run.
    function Start-BackgroundWait([EpollTools.Core.EpollInstance] $Instance, [int] $Timeout) {
        Start-BackgroundCommand 'Wait-Epoll -Instance $args[0] -Timeout $args[1]' -Argument $Instance, $Timeout
    }
}

AfterAll {
    Assert-NoFdLeak $fdBaseline
}

Describe 'Level-triggered and edge-triggered on a pipe' {
    BeforeEach {
        $ep = New-EpollInstance
        $pipe = New-Pipe -NonBlocking
    }

    AfterEach {
        $ep.Dispose()
        $pipe.Dispose()
    }

    It 'level-triggered reports the fd again while data is left (write 2 KB, read 1 KB)' {
        Add-EpollFd -Instance $ep -Fd $pipe.ReadEnd -Events In
        Write-Fd $pipe -Count 2048
        $first = @(Wait-Epoll $ep -Timeout 0)
        $first | Should -HaveCount 1
        $first[0].Fd | Should -Be $pipe.ReadEnd.Fd
        $first[0].Events | Should -Be ([EpollTools.Core.EpollEvents]::In)
        (Read-Fd $pipe -Count 1024).Count | Should -Be 1024
        $second = @(Wait-Epoll $ep -Timeout 0)
        $second | Should -HaveCount 1
        $second[0].Fd | Should -Be $pipe.ReadEnd.Fd
    }

    It 'edge-triggered does not report it again until new data arrives' {
        Add-EpollFd -Instance $ep -Fd $pipe.ReadEnd -Events In, ET
        Write-Fd $pipe -Count 2048
        @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 1
        (Read-Fd $pipe -Count 1024).Count | Should -Be 1024
        @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 0
        Write-Fd $pipe -Text 'more'
        $again = @(Wait-Epoll $ep -Timeout 0)
        $again | Should -HaveCount 1
        $again[0].Flags | Should -Be 'IN'
    }

    It 'edge-triggered readers drain until EAGAIN' {
        Add-EpollFd -Instance $ep -Fd $pipe.ReadEnd -Events In, ET
        Write-Fd $pipe -Count 3000
        @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 1
        $total = 0
        $errors = $null
        while ($true) {
            $chunk = Read-Fd $pipe -Count 1000 -ErrorAction SilentlyContinue -ErrorVariable errors
            if ($errors.Count -gt 0) { break }
            $total += $chunk.Count
        }
        $total | Should -Be 3000
        $errors[0].FullyQualifiedErrorId | Should -Match '^ReadWouldBlock,'
        $errors[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
    }

    It 'reports data that was there before the fd was added, on the first wait' {
        Write-Fd $pipe -Text 'early'
        Add-EpollFd -Instance $ep -Fd $pipe.ReadEnd -Events In, ET
        $events = @(Wait-Epoll $ep -Timeout 0)
        $events | Should -HaveCount 1
        $events[0].Fd | Should -Be $pipe.ReadEnd.Fd
    }

    It 'reports HUP when the write end is closed' {
        Add-EpollFd -Instance $ep -Fd $pipe.ReadEnd -Events In
        Close-Fd $pipe.WriteEnd
        (Wait-Epoll $ep -Timeout 0).Flags | Should -Be 'HUP'
    }
}

Describe 'One-shot' {
    BeforeAll {
        $ep = New-EpollInstance
        $efd = New-EventFd -InitialValue 1
        Add-EpollFd -Instance $ep -Fd $efd -Events In, OneShot
    }

    AfterAll {
        $ep.Dispose()
        $efd.Dispose()
    }

    It 'fires once' {
        $events = @(Wait-Epoll $ep -Timeout 0)
        $events | Should -HaveCount 1
        $events[0].Fd | Should -Be $efd.Fd
        @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 0
        $ep.Registrations[0].Armed | Should -BeFalse
    }

    It 'then reads back disarmed in /proc/self/fdinfo: only the ONESHOT bit is left' {
        Get-KernelMask $ep.Fd $efd.Fd | Should -Be 0x40000000
    }

    It 'is re-armed by Set-EpollFd, and reports the still-ready fd again' {
        Set-EpollFd -Instance $ep -Fd $efd -Events In, OneShot
        Get-KernelMask $ep.Fd $efd.Fd | Should -Be 0x40000019
        $ep.Registrations[0].Armed | Should -BeTrue
        @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 1
    }

    It 're-arms from the pipeline: Wait-Epoll | Set-EpollFd' {
        Set-EpollFd -Instance $ep -Fd $efd -Events In, OneShot
        Wait-Epoll $ep -Timeout 0 | Set-EpollFd -Events In, OneShot
        Get-KernelMask $ep.Fd $efd.Fd | Should -Be 0x40000019
    }
}

Describe 'Events and their data' {
    It 'maps custom data back to the fd, and returns the full 64 bits' {
        $ep = New-EpollInstance
        $efd = New-EventFd -InitialValue 1
        try {
            Add-EpollFd -Instance $ep -Fd $efd -Data 0xFEDCBA9876543210u
            $event = Wait-Epoll $ep -Timeout 0
            $event.Data | Should -Be 0xFEDCBA9876543210u
            $event.Fd | Should -Be $efd.Fd
            $event.Instance | Should -Be $ep
            $event.Target | Should -Be 'anon_inode:[eventfd]'
        }
        finally { $ep.Dispose(); $efd.Dispose() }
    }

    It 'returns at most -MaxEvents per wait, and the rest on the next' {
        $ep = New-EpollInstance
        $fds = @(1..5 | ForEach-Object { New-EventFd -InitialValue 1 })
        try {
            Add-EpollFd -Instance $ep -Fd $fds
            @(Wait-Epoll $ep -Timeout 0 -MaxEvents 2) | Should -HaveCount 2
            @(Wait-Epoll $ep -Timeout 0 -MaxEvents 64) | Should -HaveCount 5
        }
        finally { $ep.Dispose(); $fds | ForEach-Object { $_.Dispose() } }
    }

    It 'reports a nested epoll instance as readable when its own fds are ready' {
        $outer = New-EpollInstance
        $inner = New-EpollInstance
        $efd = New-EventFd -InitialValue 1
        try {
            Add-EpollFd -Instance $inner -Fd $efd
            Add-EpollFd -Instance $outer -Fd $inner
            $event = Wait-Epoll $outer -Timeout 0
            $event.Fd | Should -Be $inner.Fd
            $event.Target | Should -Be 'anon_inode:[eventpoll]'
        }
        finally { $outer.Dispose(); $inner.Dispose(); $efd.Dispose() }
    }
}

Describe 'Timeouts' {
    BeforeAll {
        $ep = New-EpollInstance
        $timer = New-TimerFd
        Add-EpollFd -Instance $ep -Fd $timer
    }

    AfterAll {
        $ep.Dispose()
        $timer.Dispose()
    }

    It 'returns nothing at once with -Timeout 0 when nothing is ready' {
        @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 0
    }

    It 'returns nothing after a positive timeout when nothing becomes ready' {
        @(Wait-Epoll $ep -Timeout 20) | Should -HaveCount 0
    }

    It 'returns the event that comes within a positive timeout' {
        Set-TimerFd $timer -After ([TimeSpan]::FromMilliseconds(30))
        $events = @(Wait-Epoll $ep -Timeout 10000)
        $events | Should -HaveCount 1
        (Read-Fd $timer).Value | Should -Be 1
    }

    It 'takes a TimeSpan' {
        Set-TimerFd $timer -After ([TimeSpan]::FromMilliseconds(10))
        @(Wait-Epoll $ep -Timeout ([TimeSpan]::FromSeconds(10))) | Should -HaveCount 1
        $null = Read-Fd $timer
    }

    It 'waits for ever with -Timeout -1 until an event comes' {
        Set-TimerFd $timer -After ([TimeSpan]::FromMilliseconds(50))
        $events = @(Wait-Epoll $ep -Timeout -1)
        $events | Should -HaveCount 1
        $null = Read-Fd $timer
    }

    It 'refuses a timeout below -1' {
        { Wait-Epoll $ep -Timeout -2 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}

Describe 'Stopping a wait' {
    It 'ends an infinite wait when the pipeline is stopped (Ctrl+C), leaking nothing' {
        $fdsBefore = (Get-ModuleKindFd).Count
        $ep = New-EpollInstance
        try {
            $wait = Start-BackgroundWait -Instance $ep -Timeout -1
            try {
                # The wait is blocked once its thread sits in poll(2) on the epoll fd; poll for that, bounded.
                Wait-Until { $wait.Shell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
                [Threading.Thread]::Sleep(100)
                $wait.Async.IsCompleted | Should -BeFalse
                $wait.Shell.Stop()
                Wait-Until { $wait.Async.IsCompleted } | Should -BeTrue
                $wait.Shell.InvocationStateInfo.State | Should -Be 'Stopped'
            }
            finally {
                $wait.Shell.Dispose()
                $wait.Runspace.Dispose()
            }
            $ep.IsClosed | Should -BeFalse
        }
        finally { $ep.Dispose() }
        # The wait's canceller, and the instance with the signal its waits poll, are all closed again.
        (Get-ModuleKindFd).Count | Should -Be $fdsBefore
    }

    It 'delivers an event to a wait in progress' {
        $ep = New-EpollInstance
        $efd = New-EventFd
        try {
            Add-EpollFd -Instance $ep -Fd $efd
            $wait = Start-BackgroundWait -Instance $ep -Timeout -1
            try {
                Wait-Until { $wait.Shell.InvocationStateInfo.State -eq 'Running' } | Should -BeTrue
                Write-Fd $efd -Value 1
                Wait-Until { $wait.Async.IsCompleted } | Should -BeTrue
                $null = $wait.Shell.EndInvoke($wait.Async)
                $events = @($wait.Output)
                $events | Should -HaveCount 1
                $events[0].Fd | Should -Be $efd.Fd
            }
            finally {
                $wait.Shell.Dispose()
                $wait.Runspace.Dispose()
            }
        }
        finally { $ep.Dispose(); $efd.Dispose() }
    }
}
