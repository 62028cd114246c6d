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

    It 'refuses select for fds past 1023 when asked for by name, and says why, measuring the others' {
        $errors = $null
        $results = @(Measure-Multiplexer -Count 1100 -Mechanism Select, Poll, Epoll -Repetitions 3 -ErrorAction SilentlyContinue -ErrorVariable errors)
        @($results | ForEach-Object { "$($_.Mechanism)" }) | Should -Be @('Poll', 'Epoll')
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Match '^SelectFdSetSizeExceeded,'
        $errors[0].Exception.Message | Should -Match 'FD_SETSIZE'
    }

    It 'leaves select out past 1023 with a warning, not an error, when the mechanisms are the default ones' {
        $errors = $warnings = $null
        $results = @(Measure-Multiplexer -Count 8, 1100 -Repetitions 3 -ErrorVariable errors -WarningVariable warnings -WarningAction SilentlyContinue)
        @($results | ForEach-Object { "$($_.Mechanism) $($_.Watched)" }) | Should -Be @('Select 8', 'Poll 8', 'Epoll 8', 'Poll 1100', 'Epoll 1100')
        $errors | Should -BeNullOrEmpty
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -Match '^select was left out for N = 1100: .*FD_SETSIZE \(1024\).*-Mechanism Select'
    }

    It 'measures select at every default count in a pwsh with its usual fds open' {
        $defaults = [EpollTools.Commands.MeasureMultiplexerCommand]::new().Count
        $belowFdSetSize = @($defaults | Where-Object { $_ -lt 1024 })
        $belowFdSetSize.Count | Should -BeGreaterOrEqual 3
        $results = @(Measure-Multiplexer -Count $belowFdSetSize -Mechanism Select -Repetitions 3)
        @($results.Watched) | Should -Be $belowFdSetSize
    }

    It 'shows a table that fits 80 columns, for live and deserialized measurements' {
        $results = @(Measure-Multiplexer -Count 8 -Repetitions 5)
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($results))
        foreach ($set in $results, $copy) {
            $lines = @(($set | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
            $lines[0] | Should -Match '^Mechanism\s+Watched\s+Active\s+Wait\(us\)\s+P10\(us\)\s+P90\(us\)\s+Register\(us\)\s+Reported$'
            $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
            @($lines | Where-Object { $_ -match '^(Select|Poll|Epoll)\s+8\s+1\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+1$' }) | Should -HaveCount 3
        }
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
