# End-to-end: creating epoll instances and registering, modifying and removing fds on the real kernel.

BeforeDiscovery {
    $isRoot = [Environment]::UserName -eq 'root'
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    # The registrations the kernel has for an epoll fd of this process, from /proc/self/fdinfo, by target fd.
    function Get-KernelInterest([int] $EpollFd) {
        $table = @{}
        foreach ($line in [IO.File]::ReadAllLines("/proc/self/fdinfo/$EpollFd")) {
            if ($line -match '^tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)\s+data:\s*([0-9a-f]+)') {
                $table[[int] $Matches[1]] = [pscustomobject]@{
                    Events = [Convert]::ToUInt32($Matches[2], 16)
                    Data   = [Convert]::ToUInt64($Matches[3], 16)
                }
            }
        }
        $table
    }
}

AfterAll {
    Assert-NoFdLeak $fdBaseline
}

Describe 'New-EpollInstance' {
    It 'creates a real epoll fd, close-on-exec by default' {
        $ep = New-EpollInstance
        try {
            $ep | Should -BeOfType ([EpollTools.Core.EpollInstance])
            [IO.File]::ReadAllText("/proc/self/fdinfo/$($ep.Fd)") | Should -Match 'flags:\s*0*2[0-7]{6}'
            ([IO.FileInfo]::new("/proc/self/fd/$($ep.Fd)")).LinkTarget | Should -Be 'anon_inode:[eventpoll]'
            $ep.OwnerPid | Should -Be ([Environment]::ProcessId)
            $ep.CloseOnExec | Should -BeTrue
            $ep.IsClosed | Should -BeFalse
        }
        finally { $ep.Dispose() }
    }

    It 'leaves close-on-exec off with -Inheritable' {
        $ep = New-EpollInstance -Inheritable
        try {
            $flags = [IO.File]::ReadAllLines("/proc/self/fdinfo/$($ep.Fd)") | Where-Object { $_ -like 'flags:*' }
            # O_CLOEXEC is octal 02000000: the third-from-left digit of the 7-digit octal flags field.
            $octal = ($flags -split '\s+')[1]
            ([Convert]::ToInt32($octal, 8) -band 0x80000) | Should -Be 0
            $ep.CloseOnExec | Should -BeFalse
        }
        finally { $ep.Dispose() }
    }
}

Describe 'Get-EpollInstance' {
    It 'lists the open instances of this session, and finds one by fd' {
        $a = New-EpollInstance
        $b = New-EpollInstance
        try {
            $listed = @(Get-EpollInstance)
            $listed | Should -Contain $a
            $listed | Should -Contain $b
            Get-EpollInstance -Fd $b.Fd | Should -Be $b
            Close-EpollInstance $a
            @(Get-EpollInstance) | Should -Not -Contain $a
        }
        finally { $a.Dispose(); $b.Dispose() }
    }

    It 'reports an fd with no open instance as not found' {
        $err = { Get-EpollInstance -Fd 19999 -ErrorAction Stop } | Should -Throw -ErrorId 'EpollInstanceNotFound,*' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.TargetObject | Should -Be 19999
    }
}

Describe 'Add-EpollFd, Set-EpollFd and Remove-EpollFd' {
    BeforeEach {
        $ep = New-EpollInstance
        $pipe = New-Pipe
        $efd = New-EventFd
    }

    AfterEach {
        $ep.Dispose()
        $pipe.Dispose()
        $efd.Dispose()
    }

    It 'takes -Events as the module prints it and as C writes it: <Text>' -ForEach @(
        @{ Text = 'IN|ET'; Mask = 0x80000019u }
        @{ Text = 'EPOLLIN | EPOLLONESHOT'; Mask = 0x40000019u }
        @{ Text = 'in,rdhup'; Mask = 0x2019u }
    ) {
        Add-EpollFd -Instance $ep -Fd $efd -Events $Text
        (Get-KernelInterest $ep.Fd)[$efd.Fd].Events | Should -Be $Mask
        Set-EpollFd -Instance $ep -Fd $efd -Events 'OUT|ET'
        (Get-KernelInterest $ep.Fd)[$efd.Fd].Events | Should -Be 0x8000001Cu
    }

    It 'names the token it cannot read in -Events' {
        { Add-EpollFd -Instance $ep -Fd $efd -Events 'IN|EDGE' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,*' -ExpectedMessage "*'EDGE' is not an epoll event*"
    }

    It 'chains New-EpollInstance | Add-EpollFd -PassThru | Add-EpollFd' {
        $result = $ep | Add-EpollFd -Fd $pipe.ReadEnd -Events In -PassThru | Add-EpollFd -Fd $efd -Events In, ET -PassThru
        $result | Should -Be $ep
        $kernel = Get-KernelInterest $ep.Fd
        $kernel.Count | Should -Be 2
        # The kernel stores ERR|HUP with every registration: IN (0x1) reads back as 0x19.
        $kernel[$pipe.ReadEnd.Fd].Events | Should -Be 0x19
        $kernel[$efd.Fd].Events | Should -Be 0x80000019u
        $ep.RegistrationCount | Should -Be 2
        $ep.Registrations[0].Flags | Should -Match '^IN'
    }

    It 'takes the instance by position too, as Wait-Epoll and Close-EpollInstance do: <Form>' -ForEach @(
        @{ Form = 'Add-EpollFd $ep -Fd $efd'; Script = { Add-EpollFd $ep -Fd $efd -Events In } }
        @{ Form = 'Add-EpollFd $ep $efd In, ET'; Script = { Add-EpollFd $ep $efd In, ET } }
        @{ Form = '$ep | Add-EpollFd $efd In, ET'; Script = { $ep | Add-EpollFd $efd In, ET } }
        @{ Form = 'Add-EpollFd -Instance $ep $efd'; Script = { Add-EpollFd -Instance $ep $efd } }
    ) {
        & $Script
        (Get-KernelInterest $ep.Fd).ContainsKey($efd.Fd) | Should -BeTrue
        Set-EpollFd $ep $efd Out
        (Get-KernelInterest $ep.Fd)[$efd.Fd].Events | Should -Be 0x1c
        Remove-EpollFd $ep $efd
        (Get-KernelInterest $ep.Fd).ContainsKey($efd.Fd) | Should -BeFalse
    }

    It 'registers an instance in another when it is named with -Fd, by position or from the pipeline' {
        $inner = New-EpollInstance
        try {
            Add-EpollFd $ep -Fd $inner
            $ep | Add-EpollFd -Fd $efd
            @((Get-KernelInterest $ep.Fd).Keys | Sort-Object) | Should -Be @(@($inner.Fd, $efd.Fd) | Sort-Object)
        }
        finally { $inner.Dispose() }
    }

    It 'adds a batch of raw fd numbers in one call, each with its own fd as data' {
        $pair = New-SocketPair
        try {
            $numbers = @($pipe.ReadEnd.Fd, $pair.First.Fd, $pair.Second.Fd)
            Add-EpollFd -Instance $ep -Fd $numbers -Events In, Out
            $kernel = Get-KernelInterest $ep.Fd
            foreach ($n in $numbers) {
                $kernel[$n].Data | Should -Be $n
                $kernel[$n].Events | Should -Be 0x1d
            }
        }
        finally { $pair.Dispose() }
    }

    It 'sets the 64-bit user data with -Data' {
        Add-EpollFd -Instance $ep -Fd $efd -Data 0x1122334455667788
        (Get-KernelInterest $ep.Fd)[$efd.Fd].Data | Should -Be 0x1122334455667788
    }

    It 'accepts .NET objects that own an fd: a Socket and a SafeHandle' {
        $socket = [System.Net.Sockets.Socket]::new('InterNetwork', 'Dgram', 'Udp')
        try {
            Add-EpollFd -Instance $ep -Fd $socket, $efd.Fd -Events Out
            $kernel = Get-KernelInterest $ep.Fd
            $kernel.ContainsKey([int] $socket.Handle) | Should -BeTrue
            $kernel.ContainsKey($efd.Fd) | Should -BeTrue
        }
        finally { $socket.Dispose() }
    }

    It 'changes the mask with Set-EpollFd and keeps the data' {
        Add-EpollFd -Instance $ep -Fd $efd -Events In -Data 42
        Set-EpollFd -Instance $ep -Fd $efd -Events Out, ET
        $entry = (Get-KernelInterest $ep.Fd)[$efd.Fd]
        $entry.Events | Should -Be 0x8000001cu
        $entry.Data | Should -Be 42
    }

    It 'removes the registration with Remove-EpollFd' {
        Add-EpollFd -Instance $ep -Fd $efd, $pipe.ReadEnd
        Remove-EpollFd -Instance $ep -Fd $efd
        $kernel = Get-KernelInterest $ep.Fd
        $kernel.ContainsKey($efd.Fd) | Should -BeFalse
        $kernel.ContainsKey($pipe.ReadEnd.Fd) | Should -BeTrue
        $ep.RegistrationCount | Should -Be 1
    }

    It 'does nothing under -WhatIf' {
        Add-EpollFd -Instance $ep -Fd $efd
        Remove-EpollFd -Instance $ep -Fd $efd -WhatIf
        (Get-KernelInterest $ep.Fd).ContainsKey($efd.Fd) | Should -BeTrue
    }

    It 'accepts every flag the kernel has by name' {
        $names = [Enum]::GetNames([EpollTools.Core.EpollEvents])
        foreach ($flag in 'In', 'Pri', 'Out', 'Err', 'Hup', 'RdNorm', 'RdBand', 'WrNorm', 'WrBand', 'Msg', 'RdHup', 'Exclusive', 'Wakeup', 'OneShot', 'ET') {
            $names | Should -Contain $flag
        }
        Add-EpollFd -Instance $ep -Fd $pipe.ReadEnd -Events In, Pri, RdNorm, RdBand, RdHup, OneShot, ET
        (Get-KernelInterest $ep.Fd)[$pipe.ReadEnd.Fd].Events | Should -Be 0xC00020DBu
    }
}

Describe 'Errors of Add-EpollFd, Set-EpollFd and Remove-EpollFd' {
    BeforeAll {
        $ep = New-EpollInstance
        $efd = New-EventFd
        Add-EpollFd -Instance $ep -Fd $efd
        $other = New-EventFd
    }

    AfterAll {
        $ep.Dispose()
        $efd.Dispose()
        $other.Dispose()
    }

    It 'refuses an fd that is already registered (EEXIST) and points at Set-EpollFd' {
        $err = { Add-EpollFd -Instance $ep -Fd $efd -ErrorAction Stop } | Should -Throw -ErrorId 'FdAlreadyRegistered,*' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'
        $err.TargetObject | Should -Be $efd
        $err.ErrorDetails.RecommendedAction | Should -Match 'Set-EpollFd'
        $err.Exception.Errno | Should -Be 17
    }

    It 'refuses to modify an fd that is not registered (ENOENT)' {
        { Set-EpollFd -Instance $ep -Fd $other -Events In -ErrorAction Stop } | Should -Throw -ErrorId 'FdNotRegistered,*'
    }

    It 'refuses to remove an fd that is not registered (ENOENT)' {
        $err = { Remove-EpollFd -Instance $ep -Fd $other -ErrorAction Stop } | Should -Throw -ErrorId 'FdNotRegistered,*' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses an fd number that is not open (EBADF)' {
        $err = { Add-EpollFd -Instance $ep -Fd 19999 -ErrorAction Stop } | Should -Throw -ErrorId 'BadFileDescriptor,*' -PassThru
        $err.TargetObject | Should -Be 19999
    }

    It 'refuses an fd object that was closed, without touching the number' {
        $closed = New-EventFd
        Close-Fd $closed
        { Add-EpollFd -Instance $ep -Fd $closed -ErrorAction Stop } | Should -Throw -ErrorId 'BadFileDescriptor,*'
    }

    It 'refuses a regular file (EPERM): it cannot be polled' {
        $stream = [IO.File]::OpenRead('/proc/self/exe')
        try {
            $err = { Add-EpollFd -Instance $ep -Fd $stream -ErrorAction Stop } | Should -Throw -ErrorId 'FdNotPollable,*' -PassThru
            $err.Exception.Errno | Should -Be 1
        }
        finally { $stream.Dispose() }
    }

    It 'refuses an fd number that cannot exist, before any system call' {
        { Add-EpollFd -Instance $ep -Fd -3 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,*'
        { Add-EpollFd -Instance $ep -Fd 'five' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,*'
        { Add-EpollFd -Instance $ep -Fd ([datetime]::Now) -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,*'
    }

    It 'refuses a whole pipe, pointing at its ends' {
        $pipe = New-Pipe
        try {
            { Add-EpollFd -Instance $ep -Fd $pipe -ErrorAction Stop } | Should -Throw -ExpectedMessage '*ReadEnd*'
        }
        finally { Close-Fd $pipe }
    }

    It 'refuses an instance added to itself (EINVAL)' {
        { Add-EpollFd -Instance $ep -Fd $ep -ErrorAction Stop } | Should -Throw -ErrorId 'CannotAddInstanceToItself,*'
    }

    It 'refuses EXCLUSIVE with Set-EpollFd (EINVAL)' {
        { Set-EpollFd -Instance $ep -Fd $efd -Events In, Exclusive -ErrorAction Stop } | Should -Throw -ErrorId 'ExclusiveRequiresAdd,*'
    }

    It 'accepts EXCLUSIVE with Add-EpollFd' {
        $exclusive = New-EventFd
        try {
            Add-EpollFd -Instance $ep -Fd $exclusive -Events In, Exclusive
            (Get-KernelInterest $ep.Fd)[$exclusive.Fd].Events | Should -Be 0x10000019
        }
        finally { Remove-EpollFd -Instance $ep -Fd $exclusive; $exclusive.Dispose() }
    }

    It 'refuses EXCLUSIVE with a flag it does not go with (EINVAL)' {
        $other2 = New-EventFd
        try {
            $err = { Add-EpollFd -Instance $ep -Fd $other2 -Events In, Exclusive, OneShot -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidExclusiveRegistration,*' -PassThru
            $err.Exception.Errno | Should -Be 22
        }
        finally { $other2.Dispose() }
    }

    It 'refuses a loop of epoll instances (ELOOP)' {
        $outer = New-EpollInstance
        try {
            Add-EpollFd -Instance $outer -Fd $ep
            $err = { Add-EpollFd -Instance $ep -Fd $outer -ErrorAction Stop } | Should -Throw -ErrorId 'EpollLoopDetected,*' -PassThru
            $err.Exception.Errno | Should -Be 40
        }
        finally { $outer.Dispose() }
    }

    It 'refuses any use of a closed instance' {
        $closed = New-EpollInstance
        Close-EpollInstance $closed
        $closed.IsClosed | Should -BeTrue
        { Add-EpollFd -Instance $closed -Fd $efd -ErrorAction Stop } | Should -Throw -ErrorId 'EpollInstanceClosed,*'
        { Wait-Epoll -Instance $closed -Timeout 0 -ErrorAction Stop } | Should -Throw -ErrorId 'EpollInstanceClosed,*'
    }

    It 'applies the rest of a batch when one fd fails, reporting that fd alone' {
        $a = New-EventFd
        $b = New-EventFd
        try {
            $errors = $null
            Add-EpollFd -Instance $ep -Fd $a, $efd, $b -ErrorAction SilentlyContinue -ErrorVariable errors
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Match '^FdAlreadyRegistered,'
            $kernel = Get-KernelInterest $ep.Fd
            $kernel.ContainsKey($a.Fd) | Should -BeTrue
            $kernel.ContainsKey($b.Fd) | Should -BeTrue
        }
        finally { Remove-EpollFd -Instance $ep -Fd $a, $b; $a.Dispose(); $b.Dispose() }
    }

    It 'says which sysctl to raise when fs.epoll.max_user_watches is reached (ENOSPC)' -Skip:(-not $isRoot) {
        $path = '/proc/sys/fs/epoll/max_user_watches'
        $saved = [IO.File]::ReadAllText($path).Trim()
        $extra = New-EventFd
        try {
            # Only for the moment of one epoll_ctl: no user may add a watch while the limit is 1.
            [IO.File]::WriteAllText($path, '1')
            try { Add-EpollFd -Instance $ep -Fd $extra -ErrorAction SilentlyContinue -ErrorVariable failed }
            finally { [IO.File]::WriteAllText($path, $saved) }
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -Match '^MaxUserWatchesReached,'
            $failed[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
            $failed[0].Exception.Message + $failed[0].ErrorDetails.Message | Should -Match 'fs\.epoll\.max_user_watches'
        }
        finally { $extra.Dispose() }
        [IO.File]::ReadAllText($path).Trim() | Should -Be $saved
    }
}
