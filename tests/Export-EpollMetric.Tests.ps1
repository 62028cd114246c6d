# End-to-end: Export-EpollMetric against processes stuck in known shapes (examples/stuck-shapes.c), read back through
# a real node_exporter (Debian's prometheus-node-exporter, installed by .ci/run) started on 127.0.0.1 with its textfile
# collector on a temporary directory, and scraped over HTTP.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $shapesExe = Build-Fixture 'stuck-shapes' $workDir
    $shape = @{}
    foreach ($name in 'oneshot', 'closed-fd', 'empty') { $shape[$name] = Start-Fixture $shapesExe $name }
    $pids = @($shape.Values | ForEach-Object { $_.pid })

    $textfiles = [IO.Directory]::CreateDirectory([IO.Path]::Combine($workDir, 'textfiles')).FullName
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $info = [Diagnostics.ProcessStartInfo]::new('/usr/bin/prometheus-node-exporter')
    foreach ($argument in "--web.listen-address=127.0.0.1:$port", '--collector.disable-defaults', '--collector.textfile', "--collector.textfile.directory=$textfiles") {
        $info.ArgumentList.Add($argument)
    }
    $info.RedirectStandardError = $true
    $exporter = [Diagnostics.Process]::Start($info)
    $exporter.BeginErrorReadLine()
    function Get-Scrape { (Invoke-WebRequest -Uri "http://127.0.0.1:$port/metrics" -UseBasicParsing).Content -split "`n" }
    $null = Wait-Until { try { $null = Get-Scrape; $true } catch { $false } }
}

AfterAll {
    try {
        Get-Job | Remove-Job -Force # a rewrite job left by a failed test
        if ($exporter -and -not $exporter.HasExited) { $exporter.Kill(); $exporter.WaitForExit() }
        $exporter.Dispose()
        foreach ($fixture in $shape.Values) { Stop-Helper $fixture.Process }
        [IO.Directory]::Delete($workDir, $true)
    }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Export-EpollMetric' {
    It 'writes the findings that node_exporter then serves, series by series' {
        $file = Export-EpollMetric -Path ([IO.Path]::Combine($textfiles, 'epolltools.prom')) -Id $pids -PassThru
        $file.Name | Should -Be 'epolltools.prom'
        @([IO.Directory]::GetFiles($textfiles)) | Should -HaveCount 1 -Because 'the temporary file is renamed over the target'

        $scraped = Get-Scrape
        $scraped | Should -Contain 'node_textfile_scrape_error 0'
        $one = $shape.oneshot.pid; $closed = $shape.'closed-fd'.pid; $empty = $shape.empty.pid
        $scraped | Should -Contain "epolltools_registrations{comm=""stuck-shapes"",epoll_fd=""$($shape.oneshot.epoll)"",pid=""$one""} 1"
        $scraped | Should -Contain "epolltools_stale_registrations{comm=""stuck-shapes"",pid=""$closed""} 1"
        $scraped | Should -Contain "epolltools_stale_registrations{comm=""stuck-shapes"",pid=""$one""} 0"
        $scraped | Should -Contain "epolltools_diagnoses{comm=""stuck-shapes"",kind=""OneShotDisarmed"",pid=""$one""} 1"
        $scraped | Should -Contain "epolltools_diagnoses{comm=""stuck-shapes"",kind=""ClosedFdRegistered"",pid=""$closed""} 1"
        $scraped | Should -Contain "epolltools_diagnoses{comm=""stuck-shapes"",kind=""EmptyInterestList"",pid=""$empty""} 1"
        $scraped | Should -Contain "epolltools_threads_waiting{call=""epoll_pwait"",comm=""stuck-shapes"",pid=""$empty""} 1"
        $scraped | Should -Contain 'epolltools_unreadable_processes 0'
        $scraped | Should -Contain '# TYPE epolltools_longest_wait_seconds gauge'
        @($scraped | Where-Object { $_ -match "^epolltools_longest_wait_seconds\{comm=""stuck-shapes"",pid=""$empty""\} (?<s>[\d.e+-]+)$" }) | Should -HaveCount 1
        [double] $Matches.s | Should -BeGreaterThan 0
        @($scraped | Where-Object { $_ -like 'epolltools_*' -and $_ -match 'pid="(\d+)"' -and [int] $Matches[1] -notin $pids }) | Should -BeNullOrEmpty
    }

    It 'never lets a scrape see a half-written file while it rewrites it' {
        $target = [IO.Path]::Combine($textfiles, 'epolltools.prom')
        $writer = Start-ThreadJob -ArgumentList $target, $pids, (Get-Module EpollTools).Path {
            param($target, $pids, $module)
            Import-Module $module
            foreach ($i in 1..15) { Export-EpollMetric -Path $target -Id $pids }
        }
        $scrapes = 0
        while ($writer.State -eq 'Running' -or $scrapes -lt 3) {
            $scraped = Get-Scrape
            $scraped | Should -Contain 'node_textfile_scrape_error 0'
            @($scraped | Where-Object { $_ -like 'epolltools_registrations{*' }) | Should -HaveCount 2 -Because 'the oneshot and closed-fd shapes have an instance each, the empty one none'
            @($scraped | Where-Object { $_ -like '# HELP epolltools_*' }) | Should -HaveCount 7
            $scrapes++
        }
        $writer | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
        $scrapes | Should -BeGreaterThan 2
    }

    It 'escapes a process name with a quote and a backslash, and node_exporter reads the file whole' {
        # comm is the executable's file name: a copy of the shapes program named with both characters.
        $odd = [IO.Path]::Combine($workDir, 'sh"a\pe')
        [IO.File]::Copy($shapesExe, $odd)
        $weird = Start-Fixture $odd 'empty'
        try {
            Export-EpollMetric -Path ([IO.Path]::Combine($textfiles, 'epolltools.prom')) -Id $weird.pid
            $scraped = Get-Scrape
            $scraped | Should -Contain 'node_textfile_scrape_error 0'
            $scraped | Should -Contain "epolltools_threads_waiting{call=""epoll_pwait"",comm=""sh\""a\\pe"",pid=""$($weird.pid)""} 1"
        }
        finally { Stop-Helper $weird.Process }
    }

    It 'writes to the pipeline without -Path, with HELP and TYPE lines' {
        $text = Export-EpollMetric -Id $shape.empty.pid
        $text | Should -BeOfType [string]
        $text | Should -Match '(?m)^# HELP epolltools_threads_waiting '
        $text | Should -Match "(?m)^epolltools_threads_waiting\{call=""epoll_pwait"",comm=""stuck-shapes"",pid=""$($shape.empty.pid)""\} 1$"
    }

    It 'refuses a missing directory and a directory given as the file, and writes nothing' {
        Export-EpollMetric -Path ([IO.Path]::Combine($workDir, 'no-such-dir', 'x.prom')) -Id $PID -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed[0].FullyQualifiedErrorId | Should -Be 'MetricDirectoryNotFound,EpollTools.Commands.ExportEpollMetricCommand'
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Export-EpollMetric -Path $textfiles -Id $PID -ErrorVariable failed2 -ErrorAction SilentlyContinue
        $failed2[0].FullyQualifiedErrorId | Should -Be 'MetricPathIsDirectory,EpollTools.Commands.ExportEpollMetricCommand'
        [IO.Directory]::Exists([IO.Path]::Combine($workDir, 'no-such-dir')) | Should -BeFalse
    }

    It 'keeps its rename on one filesystem: through a link to a file on another, and never over a file mounted over' -Skip:([Environment]::UserName -ne 'root') {
        $beside = [IO.Directory]::CreateDirectory([IO.Path]::Combine($workDir, 'beside')).FullName
        $otherFs = [IO.Directory]::CreateDirectory([IO.Path]::Combine($workDir, 'other-fs')).FullName
        & mount -t tmpfs none $otherFs
        $mounted = [IO.Path]::Combine($beside, 'mounted.prom')
        try {
            # A link here to a file on another filesystem: the file there is replaced, the link stays a link.
            $real = [IO.Path]::Combine($otherFs, 'real.prom')
            [IO.File]::WriteAllText($real, "old`n")
            $link = [IO.Path]::Combine($beside, 'linked.prom')
            $null = New-Item -ItemType SymbolicLink -Path $link -Target $real
            Export-EpollMetric -Path $link -Id $PID
            (Get-Item $link).LinkType | Should -Be 'SymbolicLink'
            [IO.File]::ReadAllText($real) | Should -Match '^# HELP epolltools_registrations '
            @(Get-ChildItem $otherFs -Force).Name | Should -Be @('real.prom') -Because 'the temporary file was renamed away'

            # A link that leads nowhere but to itself: an error, not an exception.
            $loop = [IO.Path]::Combine($beside, 'loop.prom')
            $null = New-Item -ItemType SymbolicLink -Path $loop -Target $loop
            Export-EpollMetric -Path $loop -Id $PID -ErrorVariable looped -ErrorAction SilentlyContinue
            $looped[0].FullyQualifiedErrorId | Should -Be 'MetricLinkNotResolved,EpollTools.Commands.ExportEpollMetricCommand'
            Remove-Item $loop

            # A file mounted over another: no rename can replace it (EBUSY), so it is refused before anything is written.
            [IO.File]::WriteAllText($mounted, "before`n")
            & mount --bind $real $mounted
            $before = [IO.File]::ReadAllText($mounted)
            Export-EpollMetric -Path $mounted -Id $PID -ErrorVariable failed -ErrorAction SilentlyContinue
            $failed | Should -HaveCount 1
            $failed[0].FullyQualifiedErrorId | Should -Be 'MetricPathIsMountPoint,EpollTools.Commands.ExportEpollMetricCommand'
            [string] $failed[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $failed[0].TargetObject | Should -Be $mounted
            $failed[0].ErrorDetails.RecommendedAction | Should -Match 'Mount the directory'
            [IO.File]::ReadAllText($mounted) | Should -Be $before
            @(Get-ChildItem $beside -Force).Name | Sort-Object | Should -Be @('linked.prom', 'mounted.prom')
        }
        finally {
            & umount $mounted 2>$null
            & umount $otherFs
        }
    }
}

Describe 'The example alerting rule' {
    It 'passes promtool check rules, and fires as its unit test says' {
        $root = [IO.Path]::GetFullPath([IO.Path]::Combine($PSScriptRoot, '..'))
        $checked = & promtool check rules ([IO.Path]::Combine($root, 'examples', 'monitoring', 'epolltools.rules.yml')) 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$checked"
        "$checked" | Should -Match 'SUCCESS: 1 rules found'

        Push-Location ([IO.Path]::Combine($root, 'tests', 'monitoring'))
        try { $tested = & promtool test rules 'epolltools.rules.test.yml' 2>&1 }
        finally { Pop-Location }
        $LASTEXITCODE | Should -Be 0 -Because "$tested"
        "$tested" | Should -Match 'SUCCESS'
    }
}
