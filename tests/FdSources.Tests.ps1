# End-to-end: the fds the module opens to drive events (eventfd, pipe, socket pair, timerfd), their reads and
# writes, O_NONBLOCK, closing, what a closed runspace releases, and objects that survive serialization.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    function Get-ModuleKindFdCount { (Get-ModuleKindFd).Count }
}

AfterAll {
    Assert-NoFdLeak $fdBaseline
}

Describe 'New-EventFd' {
    It 'adds writes up and hands the counter to a read' {
        $efd = New-EventFd -NonBlocking
        try {
            $efd.Kind | Should -Be 'EventFd'
            $efd.Target | Should -Be 'anon_inode:[eventfd]'
            Write-Fd $efd -Value 2
            Write-Fd $efd -Value 40
            (Read-Fd $efd).Value | Should -Be 42
        }
        finally { Close-Fd $efd }
    }

    It 'is readable at once with -InitialValue, one at a time with -Semaphore' {
        $efd = New-EventFd -InitialValue 2 -Semaphore -NonBlocking
        try {
            (Read-Fd $efd).Value | Should -Be 1
            (Read-Fd $efd).Value | Should -Be 1
            { Read-Fd $efd -ErrorAction Stop } | Should -Throw -ErrorId 'ReadWouldBlock,*'
        }
        finally { Close-Fd $efd }
    }

    It 'refuses bytes, and refuses a value for anything but an eventfd' {
        $efd = New-EventFd
        $pipe = New-Pipe
        try {
            { Write-Fd $efd -Text 'x' -ErrorAction Stop } | Should -Throw -ErrorId 'EventFdNeedsValue,*'
            { Write-Fd $pipe -Value 1 -ErrorAction Stop } | Should -Throw -ErrorId 'ValueNeedsEventFd,*'
        }
        finally { Close-Fd $efd, $pipe }
    }
}

Describe 'New-Pipe' {
    It 'carries text from the write end to the read end, and shows end of file' {
        $pipe = New-Pipe
        try {
            $pipe.ReadEnd.Kind | Should -Be 'PipeReadEnd'
            $pipe.WriteEnd.Kind | Should -Be 'PipeWriteEnd'
            $pipe.ReadEnd.Target | Should -Match '^pipe:\[\d+\]$'
            Write-Fd $pipe -Text 'héllo' -PassThru | Should -Be 6
            $read = Read-Fd $pipe
            $read.Text | Should -Be 'héllo'
            $read.Count | Should -Be 6
            Close-Fd $pipe.WriteEnd
            (Read-Fd $pipe).EndOfFile | Should -BeTrue
        }
        finally { Close-Fd $pipe }
    }

    It 'shows EAGAIN on an empty non-blocking read end' {
        $pipe = New-Pipe -NonBlocking
        try {
            $err = { Read-Fd $pipe.ReadEnd -ErrorAction Stop } | Should -Throw -ErrorId 'ReadWouldBlock,*' -PassThru
            $err.Exception.Errno | Should -Be 11
            $err.Exception.Message | Should -Match 'EAGAIN'
            $err.TargetObject | Should -Be $pipe.ReadEnd
        }
        finally { Close-Fd $pipe }
    }

    It 'writes what fits into a full non-blocking pipe, then EAGAIN' {
        $pipe = New-Pipe -NonBlocking
        try {
            $written = Write-Fd $pipe -Count 1MB -PassThru
            $written | Should -BeLessThan 1MB
            $written | Should -BeGreaterThan 4095
            { Write-Fd $pipe -Text 'x' -ErrorAction Stop } | Should -Throw -ErrorId 'WriteWouldBlock,*'
        }
        finally { Close-Fd $pipe }
    }

    It 'reports a broken pipe when the read end is gone' {
        $pipe = New-Pipe
        try {
            Close-Fd $pipe.ReadEnd
            { Write-Fd $pipe -Text 'x' -ErrorAction Stop } | Should -Throw -ErrorId 'BrokenPipe,*'
        }
        finally { Close-Fd $pipe }
    }
}

Describe 'New-SocketPair' {
    It 'is connected both ways' {
        $pair = New-SocketPair
        try {
            $pair.First.Target | Should -Match '^socket:\[\d+\]$'
            Write-Fd $pair.First -Text 'ping'
            (Read-Fd $pair.Second).Text | Should -Be 'ping'
            Write-Fd $pair.Second -Text 'pong'
            (Read-Fd $pair.First).Text | Should -Be 'pong'
        }
        finally { Close-Fd $pair }
    }

    It 'reports RDHUP to epoll when the peer closes' {
        $ep = New-EpollInstance
        $pair = New-SocketPair
        try {
            Add-EpollFd -Instance $ep -Fd $pair.First -Events In, RdHup
            Close-Fd $pair.Second
            $event = Wait-Epoll $ep -Timeout 0
            ($event.Events -band [EpollTools.Core.EpollEvents]::RdHup) | Should -Be ([EpollTools.Core.EpollEvents]::RdHup)
            $event.Flags | Should -Be 'IN|HUP|RDHUP'
        }
        finally { Close-EpollInstance $ep; Close-Fd $pair }
    }
}

Describe 'New-TimerFd and Set-TimerFd' {
    It 'arms, reports and disarms' {
        $timer = New-TimerFd -NonBlocking
        try {
            $timer.Target | Should -Be 'anon_inode:[timerfd]'
            $timer.Remaining | Should -Be ([TimeSpan]::Zero)
            Set-TimerFd $timer -After ([TimeSpan]::FromMinutes(1)) -Interval ([TimeSpan]::FromSeconds(2))
            $timer.Remaining.TotalSeconds | Should -BeGreaterThan 50
            $timer.Interval | Should -Be ([TimeSpan]::FromSeconds(2))
            { Read-Fd $timer -ErrorAction Stop } | Should -Throw -ErrorId 'ReadWouldBlock,*'
            Set-TimerFd $timer -Disarm
            $timer.Remaining | Should -Be ([TimeSpan]::Zero)
        }
        finally { Close-Fd $timer }
    }

    It 'refuses a duration that is not positive' {
        $timer = New-TimerFd
        try {
            { Set-TimerFd $timer -After ([TimeSpan]::Zero) -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTimerDuration,*'
            { New-TimerFd -After ([TimeSpan]::FromSeconds(-1)) } | Should -Throw -ErrorId 'InvalidTimerDuration,*'
        }
        finally { Close-Fd $timer }
    }
}

Describe 'Set-FdOption' {
    It 'sets and clears O_NONBLOCK' {
        $pipe = New-Pipe
        try {
            $pipe.ReadEnd.NonBlocking | Should -BeFalse
            Set-FdOption $pipe.ReadEnd -NonBlocking $true
            $pipe.ReadEnd.NonBlocking | Should -BeTrue
            [IO.File]::ReadAllText("/proc/self/fdinfo/$($pipe.ReadEnd.Fd)") | Should -Match 'flags:\s*0*\d*4000'
            Set-FdOption $pipe.ReadEnd -NonBlocking $false -PassThru | Should -Be $pipe.ReadEnd
            $pipe.ReadEnd.NonBlocking | Should -BeFalse
        }
        finally { Close-Fd $pipe }
    }
}

Describe 'Close-Fd' {
    It 'closes, and closing again does nothing' {
        $efd = New-EventFd
        Close-Fd $efd
        $efd.IsClosed | Should -BeTrue
        Close-Fd $efd
        { Write-Fd $efd -Value 1 -ErrorAction Stop } | Should -Throw -ErrorId 'FdClosed,*'
    }

    It 'refuses what the module did not open' {
        $err = { Close-Fd 'not an fd' -ErrorAction Stop } | Should -Throw -ErrorId 'NotAModuleFd,*' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'closes nothing under -WhatIf' {
        $efd = New-EventFd
        Close-Fd $efd -WhatIf
        $efd.IsClosed | Should -BeFalse
        Close-Fd $efd
    }
}

Describe 'Closing a runspace' {
    It 'releases every fd the module opened in it' {
        $before = Get-ModuleKindFdCount
        $runspace = [runspacefactory]::CreateRunspace([initialsessionstate]::CreateDefault2())
        $runspace.Open()
        $shell = [powershell]::Create()
        try {
            $shell.Runspace = $runspace
            $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
            $null = $shell.AddScript('param($m) Import-Module $m; $ep = New-EpollInstance; $p = New-Pipe; $s = New-SocketPair; $e = New-EventFd; $t = New-TimerFd; Add-EpollFd -Instance $ep -Fd $p.ReadEnd, $e; (Get-EpollInstance).Count').AddArgument($manifest)
            $shell.Invoke() | Should -Be 1
            Get-ModuleKindFdCount | Should -Be ($before + 7)
        }
        finally {
            $shell.Dispose()
            $runspace.Dispose()
        }
        Get-ModuleKindFdCount | Should -Be $before
    }
}

Describe 'Serialization' {
    It 'keeps the key properties of events and instances through PSSerializer' {
        $ep = New-EpollInstance
        $efd = New-EventFd -InitialValue 1
        try {
            Add-EpollFd -Instance $ep -Fd $efd -Events In, ET
            $event = Wait-Epoll $ep -Timeout 0
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($event))
            $copy.PSObject.TypeNames[0] | Should -Be 'Deserialized.EpollTools.Core.EpollEvent'
            $copy.Fd | Should -Be $efd.Fd
            $copy.Flags | Should -Be 'IN'
            $copy.Data | Should -Be $efd.Fd
            $copy.EpollFd | Should -Be $ep.Fd
            $instance = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($ep, 2))
            $instance.PSObject.TypeNames[0] | Should -Be 'Deserialized.EpollTools.Core.EpollInstance'
            $instance.RegistrationCount | Should -Be 1
            $instance.Registrations[0].Flags | Should -Be 'IN|ET'
        }
        finally { Close-EpollInstance $ep; Close-Fd $efd }
    }

    It 'has a format view for the deserialized types too' {
        $format = [xml] [IO.File]::ReadAllText([IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'module', 'EpollTools.format.ps1xml'))
        $names = @($format.Configuration.ViewDefinitions.View.ViewSelectedBy.TypeName)
        foreach ($type in 'EpollTools.Core.EpollInstance', 'EpollTools.Core.EpollEvent', 'EpollTools.Core.EpollRegistration', 'EpollTools.Core.EventFd', 'EpollTools.Core.Pipe') {
            $names | Should -Contain $type
            $names | Should -Contain "Deserialized.$type"
        }
    }
}
