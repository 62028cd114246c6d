# End-to-end: Measure-Multiplexer and Show-MultiplexerChart. Behaviour only: no test asserts a timing.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
}

AfterAll {
    Assert-NoFdLeak $fdBaseline
}

Describe 'Measure-Multiplexer' {
    It 'measures select, poll and epoll for each N and K, each wait finding the K ready fds' {
        $results = @(Measure-Multiplexer -Count 8, 64 -Active 0, 3 -Repetitions 20)
        $results | Should -HaveCount 12
        foreach ($result in $results) {
            $result | Should -BeOfType ([EpollTools.Core.Multiplexers.MultiplexerMeasurement])
            $result.Reported | Should -Be $result.Active
            $result.Repetitions | Should -Be 20
            $result.WaitMicroseconds | Should -BeGreaterThan 0
            $result.WaitP90Microseconds | Should -Not -BeLessThan $result.WaitP10Microseconds
        }
        @($results.Mechanism | ForEach-Object { "$_" }) | Should -Contain 'Select'
        @($results | Where-Object { $_.Watched -eq 64 -and $_.Active -eq 3 }) | Should -HaveCount 3
    }

    It 'skips K larger than N' {
        @(Measure-Multiplexer -Count 4 -Active 2, 10 -Mechanism Epoll -Repetitions 5) | Should -HaveCount 1
    }

    It 'closes every fd it opened' {
        $before = [IO.Directory]::GetFileSystemEntries('/proc/self/fd').Count
        $null = Measure-Multiplexer -Count 500 -Mechanism Poll, Epoll -Repetitions 5
        [IO.Directory]::GetFileSystemEntries('/proc/self/fd').Count | Should -BeLessThan ($before + 1)
    }

    It 'refuses N beyond the fd limit before opening anything' {
        $err = { Measure-Multiplexer -Count 100000 -Repetitions 1 -ErrorAction Stop } | Should -Throw -ErrorId 'FdLimitExceeded,*' -PassThru
        $err.CategoryInfo.Category | Should -Be 'LimitsExceeded'
        $err.TargetObject | Should -Be 100000
        $err.Exception.Message | Should -Match 'RLIMIT_NOFILE'
    }

    It 'refuses select for fds past 1023 and says why, measuring the others' {
        $errors = $null
        $results = @(Measure-Multiplexer -Count 1100 -Repetitions 3 -ErrorAction SilentlyContinue -ErrorVariable errors)
        @($results | ForEach-Object { "$($_.Mechanism)" }) | Should -Be @('Poll', 'Epoll')
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Match '^SelectFdSetSizeExceeded,'
        $errors[0].Exception.Message | Should -Match 'FD_SETSIZE'
    }
}

Describe 'Show-MultiplexerChart' {
    It 'draws one bar per measurement, grouped by K' {
        $lines = @(Measure-Multiplexer -Count 4, 16 -Repetitions 5 | Show-MultiplexerChart -Width 20)
        $lines[0] | Should -Match 'log scale'
        $lines | Should -Contain 'K = 1 ready'
        @($lines | Where-Object { $_ -match '^\s+(select|poll|epoll)\s+N=\d+\s+#+ \d' }) | Should -HaveCount 6
    }

    It 'draws measurements that came back through serialization' {
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize(@(Measure-Multiplexer -Count 4 -Mechanism Epoll -Repetitions 5)))
        @($copy | Show-MultiplexerChart | Where-Object { $_ -match 'epoll\s+N=4' }) | Should -HaveCount 1
    }
}
