# End-to-end: Get-EpollInterest and Get-FdInfo against a real fixture process (tests/fixtures/epoll-fixture.c,
# built here with gcc) that sets up known registrations, prints its fds and waits.

BeforeDiscovery {
    $canSwitchUser = [Environment]::UserName -eq 'root' -and [IO.File]::Exists('/usr/bin/setpriv')
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    $workDir = New-WorkDirectory
    $fixtureExe = Build-Fixture 'epoll-fixture' $workDir
    $unixPath = [IO.Path]::Combine($workDir, 'fixture.sock')

    $fx = Start-Fixture $fixtureExe $unixPath
    $interest = @(Get-EpollInterest -Id $fx.pid -EpollFd $fx.epoll)
    function Get-Entry([int] $Tfd) { $interest | Where-Object { $_.TargetFd -eq $Tfd } }
}

AfterAll {
    try {
        Stop-Helper $fx.Process
        [IO.Directory]::Delete($workDir, $true)
    }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Get-EpollInterest on the fixture' {
    Context 'the registrations' {
        It 'lists every registration of the epoll fd, by target fd' {
            $interest | Should -HaveCount 14
            $expected = [int[]] @($fx.listener, $fx.accepted, $fx.udp, $fx.unix_listener, $fx.pipe_read, $fx.eventfd, $fx.timerfd, $fx.signalfd, $fx.inner_epoll, $fx.fifo, $fx.inotify, $fx.pidfd, $fx.closed_dup, $fx.closed_dup)
            [Array]::Sort($expected)
            @($interest.TargetFd) | Should -Be $expected
            $interest[0].ProcessId | Should -Be $fx.pid
            $interest[0].ProcessName | Should -Be 'epoll-fixture'
            $interest[0].EpollFd | Should -Be $fx.epoll
        }

        It 'shows the mask as stored, ERR|HUP added by the kernel, in names and in hex' {
            (Get-Entry $fx.listener).Flags | Should -Be 'IN|ERR|HUP'
            (Get-Entry $fx.listener).EventsHex | Should -Be '0x19'
            (Get-Entry $fx.listener).RequestedFlags | Should -Be 'IN'
            (Get-Entry $fx.accepted).Flags | Should -Be 'IN|OUT|ERR|HUP|RDHUP|ET'
            (Get-Entry $fx.accepted).EventsHex | Should -Be '0x8000201d'
            (Get-Entry $fx.udp).Flags | Should -Be 'IN|ERR|HUP|ONESHOT'
            (Get-Entry $fx.unix_listener).Flags | Should -Be 'IN|ERR|HUP|EXCLUSIVE'
            (Get-Entry $fx.eventfd).Events | Should -Be ([EpollTools.Core.EpollEvents] 'In, Err, Hup, ET')
        }

        It 'shows the 64-bit data' {
            (Get-Entry $fx.accepted).Data | Should -Be 0xfeedfacecafebeefu
            (Get-Entry $fx.accepted).DataHex | Should -Be '0xfeedfacecafebeef'
            (Get-Entry $fx.listener).Data | Should -Be $fx.listener
        }

        It 'shows the target inode and device as major:minor' {
            $socketInode = [uint64] ([regex]::Match(([IO.FileInfo]::new("/proc/$($fx.pid)/fd/$($fx.listener)")).LinkTarget, '\d+').Value)
            (Get-Entry $fx.listener).TargetInode | Should -Be $socketInode
            (Get-Entry $fx.listener).TargetDevice | Should -Match '^0:\d+$'
            (Get-Entry $fx.listener).Pos | Should -Be 0
        }

        It 'shows a one-shot registration that fired with only its flag' {
            $fired = @(Get-EpollInterest -Id $fx.pid -EpollFd $fx.fired_epoll)
            $fired | Should -HaveCount 1
            $fired[0].Flags | Should -Be 'ONESHOT'
            $fired[0].EventsHex | Should -Be '0x40000000'
        }
    }

    Context 'the targets' {
        It 'resolves TCP sockets with addresses, ports and state' {
            (Get-Entry $fx.listener).TargetKind | Should -Be 'Socket'
            (Get-Entry $fx.listener).Target | Should -Be "TCP 127.0.0.1:$($fx.tcp_port) LISTEN"
            # The addresses and state, then what the kernel keeps of the traffic (tcp_info): none has moved on this connection.
            (Get-Entry $fx.accepted).Target | Should -Match "^TCP 127\.0\.0\.1:$($fx.tcp_port) -> 127\.0\.0\.1:$($fx.client_port) ESTABLISHED, idle [\d.]+ (ms|s|min \d+ s), 0 B in, 0 B out, rtt [\d.]+ ms$"
        }

        It 'resolves a UDP socket' {
            (Get-Entry $fx.udp).Target | Should -Be "UDP 127.0.0.1:$($fx.udp_port) UNCONNECTED"
        }

        It 'resolves a unix socket with its path' {
            (Get-Entry $fx.unix_listener).Target | Should -Be "UNIX STREAM LISTEN $unixPath"
        }

        It 'resolves a pipe and the process that holds its other end' {
            $pipe = Get-Entry $fx.pipe_read
            $pipe.TargetKind | Should -Be 'Pipe'
            $pipe.Target | Should -Match "^pipe:\[\d+\] read end; writers: $($fx.child) epoll-fixture fd \d+$"
        }

        It 'resolves eventfd, timerfd and signalfd from their own fdinfo' {
            (Get-Entry $fx.eventfd).TargetKind | Should -Be 'EventFd'
            (Get-Entry $fx.eventfd).Target | Should -Match '^eventfd count=5 id=\d+$'
            (Get-Entry $fx.timerfd).TargetKind | Should -Be 'TimerFd'
            (Get-Entry $fx.timerfd).Target | Should -Match '^timerfd MONOTONIC next in \d+(\.\d+)?s, every 30s$'
            (Get-Entry $fx.signalfd).TargetKind | Should -Be 'SignalFd'
            (Get-Entry $fx.signalfd).Target | Should -Be 'signalfd SIGUSR1,SIGUSR2'
        }

        It 'resolves a FIFO and the process that holds its write end' {
            (Get-Entry $fx.fifo).TargetKind | Should -Be 'Fifo'
            (Get-Entry $fx.fifo).Target | Should -Match ("^" + [regex]::Escape("$unixPath.fifo") + " read end; writers: $($fx.child) epoll-fixture fd \d+$")
        }

        It 'resolves inotify and pidfd' {
            (Get-Entry $fx.inotify).TargetKind | Should -Be 'Inotify'
            (Get-Entry $fx.inotify).Target | Should -Be 'inotify (1 watches)'
            (Get-Entry $fx.pidfd).TargetKind | Should -Be 'PidFd'
            (Get-Entry $fx.pidfd).Target | Should -Be "pidfd of $($fx.child) epoll-fixture"
        }

        It 'resolves a nested epoll instance' {
            (Get-Entry $fx.inner_epoll).TargetKind | Should -Be 'Epoll'
            (Get-Entry $fx.inner_epoll).Target | Should -Be "epoll (1 registered: tfd $($fx.inner_eventfd))"
        }
    }

    Context 'stale registrations' {
        It 'marks current registrations current' {
            @($interest | Where-Object { $_.TargetFd -ne $fx.closed_dup } | Where-Object { $_.State -ne 'Current' }) | Should -HaveCount 0
        }

        It 'marks a registration whose fd was closed (dup + close) stale, and finds the fd that still holds its file' {
            $dup = $interest | Where-Object { $_.Data -eq 0xdead }
            $dup.TargetFd | Should -Be $fx.closed_dup
            $dup.State | Should -Be 'Stale'
            $dup.StaleReason | Should -Match 'another file'
            $dup.StillOpenAs | Should -Be $fx.eventfd
            $dup.Target | Should -Match '^eventfd count=5'
        }

        It 'marks a registration whose number now belongs to another file stale' {
            $reused = $interest | Where-Object { $_.Data -eq 0xbeef }
            $reused.TargetFd | Should -Be $fx.reused
            $reused.State | Should -Be 'Stale'
            $reused.StillOpenAs | Should -Be $fx.signalfd
            $reused.Target | Should -Be 'signalfd SIGUSR1,SIGUSR2'
        }
    }

    Context 'what is ready now (-Readiness)' {
        BeforeAll {
            $ready = @(Get-EpollInterest -Id $fx.pid -EpollFd $fx.epoll -Readiness)
            function Get-Ready([int] $Tfd) { $ready | Where-Object { $_.TargetFd -eq $Tfd -and $_.State -eq 'Current' } }
        }

        It 'reads each registered file''s readiness, asked for or not' {
            (Get-Ready $fx.eventfd).ReadyEvents | Should -Be ([EpollTools.Core.EpollEvents] 'In, Out')   # count 5
            (Get-Ready $fx.eventfd).Ready | Should -Be 'IN|OUT'
            (Get-Ready $fx.accepted).Ready | Should -Be 'OUT'            # connected, nothing sent
            (Get-Ready $fx.pipe_read).Ready | Should -Be ''              # empty pipe: nothing ready
            (Get-Ready $fx.listener).Ready | Should -Be ''               # no connection waiting
            (Get-Ready $fx.timerfd).Ready | Should -Be ''                # not expired
        }

        It 'reads a stale registration through the fd that still holds its file, and never guesses one it cannot reach' {
            ($ready | Where-Object Data -eq 0xdead).Ready | Should -Be 'IN|OUT'   # the eventfd, via StillOpenAs
            $unreachable = @(Get-EpollInterest -Id $fx.pid -Readiness | Where-Object { $_.State -eq 'Stale' -and $null -eq $_.StillOpenAs })
            $unreachable.Count | Should -BeGreaterThan 0     # the shared instance's fd closed in this process
            foreach ($row in $unreachable) { $row.ReadyEvents | Should -BeNullOrEmpty }
        }

        It 'consumes nothing: a fired one-shot stays disarmed and an eventfd keeps its count' {
            $fired = Get-EpollInterest -Id $fx.pid -EpollFd $fx.fired_epoll -Readiness
            $fired.Ready | Should -Be 'IN|OUT'
            (Get-EpollInterest -Id $fx.pid -EpollFd $fx.fired_epoll).Flags | Should -Be 'ONESHOT'
            (Get-Entry $fx.eventfd).Target | Should -Match '^eventfd count=5 '
            (Get-EpollInterest -Id $fx.pid -EpollFd $fx.epoll | Where-Object { $_.TargetFd -eq $fx.eventfd -and $_.State -eq 'Current' }).Target | Should -Match '^eventfd count=5 '
        }

        It 'leaves an edge-triggered event in place for the waiter that owns it' {
            $ep = New-EpollInstance
            $efd = New-EventFd
            try {
                Add-EpollFd -Instance $ep -Fd $efd -Events In, ET
                Write-Fd $efd -Value 1
                (Get-EpollInterest -EpollFd $ep.Fd -Readiness).Ready | Should -Be 'IN|OUT'
                (Get-EpollInterest -EpollFd $ep.Fd -Readiness).Ready | Should -Be 'IN|OUT'
                @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 1      # the edge is still there
                @(Wait-Epoll $ep -Timeout 0) | Should -HaveCount 0      # and is consumed only by the wait
            }
            finally { $ep.Dispose(); $efd.Dispose() }
        }

        It 'is not read unless asked for' {
            (Get-Entry $fx.eventfd | Select-Object -First 1).ReadyEvents | Should -BeNullOrEmpty
        }

        It 'shows a Ready column in place of Data, in 80 columns, also after serialization' {
            $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($ready))
            foreach ($set in $ready, $copy) {
                $lines = @(($set | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd)
                $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
                $lines | Where-Object { $_ -match '^\s*Tfd\s' } | Select-Object -First 1 | Should -Match '^\s*Tfd\s+Requested\s+Ready\s+Target$'
                $lines | Where-Object { $_ -match "^\s*$($fx.pipe_read) IN\s+-\s+pipe:" } | Should -Not -BeNullOrEmpty
                $lines | Where-Object { $_ -match "^\s*$($fx.eventfd) IN\|ET\s+IN\|OUT\s+eventfd count=5" } | Should -Not -BeNullOrEmpty
            }
        }
    }

    Context 'the interest list alone (-NoResolve)' {
        It 'lists the same registrations with what fdinfo says, and nothing judged or resolved' {
            $cheap = @(Get-EpollInterest -Id $fx.pid -EpollFd $fx.epoll -NoResolve)
            $cheap | Should -HaveCount $interest.Count
            $key = { '{0}/{1}/{2}/{3}/{4}' -f $_.TargetFd, $_.Events, $_.Data, $_.TargetInode, $_.TargetDevice }
            @($cheap | ForEach-Object $key) | Should -Be @($interest | ForEach-Object $key)
            foreach ($row in $cheap) {
                $row.State | Should -Be 'NotChecked'
                $row.TargetKind | Should -Be 'Unknown'
                $row.Target | Should -Be ('ino {0:x}, device {1}' -f $row.TargetInode, $row.TargetDevice)
                $row.StillOpenAs | Should -BeNullOrEmpty
            }
        }

        It 'still says what the mask alone shows: a fired one-shot' {
            $fired = Get-EpollInterest -Id $fx.pid -EpollFd $fx.fired_epoll -NoResolve
            $fired.Diagnoses.Kind | Should -Be 'OneShotDisarmed'
        }

        It 'refuses -Readiness with it, before reading anything' {
            { Get-EpollInterest -Id $fx.pid -NoResolve -Readiness } | Should -Throw -ErrorId 'ReadinessNeedsResolution,EpollTools.Commands.GetEpollInterestCommand'
        }
    }

    Context 'the default view' {
        BeforeAll {
            $lines = @((Get-EpollInterest -Id $fx.pid -EpollFd $fx.epoll | Out-String -Width 80) -split "`n" | ForEach-Object TrimEnd)
            function Get-ViewRow([int] $Tfd, [string] $Data) {
                $lines | Where-Object { $_ -match "^\s*$Tfd\s" -and $_ -match "\s$Data\s" }
            }
        }

        It 'fits 80 columns with Target last and at least 38 columns wide' {
            $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
            $header = $lines | Where-Object { $_ -match '^\s*Tfd\s' }
            $header | Should -Match '^\s*Tfd\s+Requested\s+Data\s+Target$'
            $header.IndexOf('Target') | Should -BeLessOrEqual 42
            Get-ViewRow $fx.listener '0x3' | Should -Match "\sTCP 127\.0\.0\.1:$($fx.tcp_port) LISTEN$"
            # Wrapped at a space, never inside an address: the peer goes on the next line, whole.
            $row = Get-ViewRow $fx.accepted '0xfeedfacecafebeef'
            $row | Should -Match "\sTCP 127\.0\.0\.1:$($fx.tcp_port) ->$"
            $lines[[array]::IndexOf($lines, $row) + 1] | Should -Match '^\s{40,}127\.0\.0\.1:\d+ ESTABLISHED, idle'
        }

        It 'shows the requested mask and the full 64-bit data' {
            Get-ViewRow $fx.accepted '0xfeedfacecafebeef' | Should -Match '^\s*\d+ IN\|OUT\|RDHUP\|ET\s'
            Get-ViewRow $fx.udp '0x6' | Should -Match '^\s*\d+ IN\|ONESHOT\s'
        }

        It 'says STALE, with the fd that still holds the file, only on stale rows' {
            Get-ViewRow $fx.closed_dup '0xdead' | Should -Match "\sSTALE \(fd $($fx.eventfd)\) eventfd count=5"
            Get-ViewRow $fx.reused '0xbeef' | Should -Match "\sSTALE \(fd $($fx.signalfd)\) signalfd"
            @($lines | Where-Object { $_ -match 'STALE' }) | Should -HaveCount 2
            $lines | Where-Object { $_ -match '^\s*Tfd\s' } | Should -Not -Match 'State'
        }

        It 'keeps the kernel''s internal kcmp offset out of the object' {
            $entry = Get-Entry $fx.listener
            $entry.PSObject.Properties.Name | Should -Not -Contain 'Offset'
            $entry | ConvertTo-Json | ConvertFrom-Json | ForEach-Object { $_.PSObject.Properties.Name } | Should -Not -Contain 'Offset'
        }

        It 'gives JSON readers names: masks as strings always, and the enums too with -EnumsAsStrings (as the help says)' {
            $json = Get-Entry $fx.accepted | ConvertTo-Json -Depth 1 | ConvertFrom-Json
            $json.Flags | Should -Be 'IN|OUT|ERR|HUP|RDHUP|ET'
            $json.EventsHex | Should -Be '0x8000201d'
            $named = Get-Entry $fx.accepted | ConvertTo-Json -Depth 1 -EnumsAsStrings | ConvertFrom-Json
            $named.State | Should -Be 'Current'
            $named.TargetKind | Should -Be 'Socket'
        }
    }

    Context 'CSV' {
        It 'writes a list property''s items, not its type name, with Export-Csv and ConvertTo-Csv' {
            # A fired one-shot has a diagnosis; every row has its holders; a -Target row has its waiting threads.
            $rows = @(Get-EpollInterest -Id $fx.pid -EpollFd $fx.fired_epoll) + @(Get-EpollInterest -Target "$($fx.pid):$($fx.listener)" -WarningAction SilentlyContinue)
            $csv = @($rows | ConvertTo-Csv) -join "`n"
            $csv | Should -Not -Match 'System\.|\[\]'
            $table = @($csv | ConvertFrom-Csv)
            $table[0].Diagnoses | Should -Be $rows[0].Diagnoses[0].Summary
            $table[0].Holders | Should -Be "$($fx.pid):$($fx.fired_epoll)"
            $table[-1].WaitingThreadIds | Should -Be (@($rows[-1].WaitingThreadIds) -join '; ')

            $path = [IO.Path]::Combine($workDir, 'interest.csv')
            $rows | Export-Csv -Path $path
            [IO.File]::ReadAllText($path) | Should -Be (($csv -split "`n" | ForEach-Object { $_ + [Environment]::NewLine }) -join '')
        }

        It 'does so for Get-MultiplexerWait and Get-FdInfo too' {
            $waits = @(Get-MultiplexerWait -Id $PID -IncludeAllThreads | Select-Object -First 3)
            @($waits | ConvertTo-Csv) -join "`n" | Should -Not -Match 'System\.|\[\]'
            @(Get-FdInfo -Fd $fx.epoll -Id $fx.pid | ConvertTo-Csv) -join "`n" | Should -Not -Match 'System\.|\[\]'
            (Get-FdInfo -Fd $fx.epoll -Id $fx.pid | ConvertTo-Csv | ConvertFrom-Csv).EpollTargets | Should -Match '^tfd: +\d+ events:'
        }

        It 'keeps the items as a list for scripts and through serialization' {
            $row = Get-EpollInterest -Target "$($fx.pid):$($fx.listener)" -WarningAction SilentlyContinue | Select-Object -First 1
            $row.Holders.Count | Should -BeGreaterThan 0
            $row.Holders[0] | Should -Match '^\d+:\d+$'
            $copy = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($row))
            @($copy.Holders) | Should -Be @($row.Holders)
            @($copy.WaitingThreadIds) | Should -Be @($row.WaitingThreadIds)
        }
    }

    Context 'processes' {
        It 'completes -Name with the names of live processes, each once with its count' {
            $result = TabExpansion2 -inputScript 'Get-EpollInterest -Name epoll-fi' -cursorColumn 32
            $match = @($result.CompletionMatches | Where-Object CompletionText -eq 'epoll-fixture')
            $match | Should -HaveCount 1
            $match[0].ToolTip | Should -Match '^epoll-fixture \(\d+ processes\)$'
            $result.CompletionMatches | Where-Object { $_.CompletionText -notlike 'epoll-fi*' } | Should -BeNullOrEmpty
        }

        It 'completes -Id with live pids, each shown with its name, for Get-EpollInterest and Get-FdInfo' {
            foreach ($command in 'Get-EpollInterest -Id ', 'Get-FdInfo -Pid ') {
                $line = $command + $fx.pid
                $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $match = @($result.CompletionMatches | Where-Object CompletionText -eq "$($fx.pid)")
                $match | Should -HaveCount 1
                $match[0].ListItemText | Should -Be "$($fx.pid) epoll-fixture"
                $result.CompletionMatches | Where-Object { -not $_.CompletionText.StartsWith("$($fx.pid)") } | Should -BeNullOrEmpty
            }
        }

        It 'leaves kernel threads out of -Id and -Name completion: they hold no fds' {
            # kthreadd (pid 2) is the kernel threads' parent on every kernel of the last decade.
            $kthreadd = [IO.File]::ReadAllText('/proc/2/comm').TrimEnd("`n")
            $result = TabExpansion2 -inputScript 'Get-EpollInterest -Id 2' -cursorColumn 23
            $result.CompletionMatches | Where-Object CompletionText -eq '2' | Should -BeNullOrEmpty
            $line = "Get-EpollInterest -Name $kthreadd"
            $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $result.CompletionMatches | Where-Object CompletionText -eq $kthreadd | Should -BeNullOrEmpty
        }

        It 'completes -EpollFd with the epoll fds of the process -Id names, never with file names' {
            $line = "Get-EpollInterest -Id $($fx.pid) -EpollFd "
            $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $expected = @(Get-ChildItem "/proc/$($fx.pid)/fd" | Where-Object { $_.LinkTarget -eq 'anon_inode:[eventpoll]' } | ForEach-Object { [int] $_.Name } | Sort-Object)
            $expected.Count | Should -BeGreaterThan 0
            @($result.CompletionMatches.CompletionText | ForEach-Object { [int] $_ } | Sort-Object) | Should -Be $expected
            $registered = @([IO.File]::ReadAllLines("/proc/$($fx.pid)/fdinfo/$($fx.epoll)") | Where-Object { $_ -like 'tfd:*' }).Count
            ($result.CompletionMatches | Where-Object CompletionText -eq "$($fx.epoll)").ToolTip | Should -Be "epoll fd $($fx.epoll) of $($fx.pid) ($registered registered)"
        }

        It 'completes -TargetPort with the ports something listens on, never with file names' {
            $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
            $listener.Start()
            try {
                $port = $listener.LocalEndpoint.Port
                $line = 'Get-EpollInterest -TargetPort ' + "$port".Substring(0, 3)
                $result = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $match = @($result.CompletionMatches | Where-Object CompletionText -eq "$port")
                $match | Should -HaveCount 1
                $match[0].ToolTip | Should -Be "$port (TCP)"
                $result.CompletionMatches | Where-Object { $_.CompletionText -notmatch '^\d+$' } | Should -BeNullOrEmpty
            }
            finally { $listener.Stop() }
        }

        It 'shows an epoll instance shared after fork once, with all its holders' {
            $shared = @(Get-EpollInterest -Id $fx.pid, $fx.child | Where-Object { $_.Data -eq 0x5a5a })
            $shared | Should -HaveCount 1
            $shared[0].Holders | Should -Contain "$($fx.pid):$($fx.shared_epoll)"
            $shared[0].Holders | Should -Contain "$($fx.child):$($fx.shared_epoll)"
        }

        It 'resolves each registration of a shared instance in the holder whose fd it is' {
            $both = @(Get-EpollInterest -Id $fx.pid, $fx.child -EpollFd $fx.shared_epoll)
            $both | Should -HaveCount 2
            $childs = $both | Where-Object { $_.Data -eq 0x7777 }
            $childs.TargetFd | Should -Be $fx.pipe_write
            $childs.TargetProcessId | Should -Be $fx.child
            $childs.State | Should -Be 'Current'
            $childs.TargetKind | Should -Be 'Pipe'
            $childs.Target | Should -Match 'write end'
            $parents = $both | Where-Object { $_.Data -eq 0x5a5a }
            $parents.TargetProcessId | Should -Be $fx.pid
            $parents.State | Should -Be 'Current'
            $parents.TargetKind | Should -Be 'Socket'
        }

        It 'judges a shared instance as the processes asked about see it: the child''s fd number is reused in the parent' {
            $alone = Get-EpollInterest -Id $fx.pid -EpollFd $fx.shared_epoll | Where-Object { $_.Data -eq 0x7777 }
            $alone.TargetProcessId | Should -Be $fx.pid
            $alone.State | Should -Be 'Stale'
            $alone.StaleReason | Should -Match 'another file'
            $alone.StillOpenAs | Should -BeNullOrEmpty
        }

        It 'selects processes by name, with wildcards' {
            $byName = @(Get-EpollInterest -Name 'epoll-fixt*')
            @($byName.ProcessId | Where-Object { $_ -eq $fx.pid }).Count | Should -BeGreaterThan 0
        }

        It 'binds -Id by property name from the pipeline, as Get-Process objects do' {
            $fromPipeline = @([pscustomobject]@{ Id = $fx.pid } | Get-EpollInterest -EpollFd $fx.epoll)
            $fromPipeline | Should -HaveCount 14
        }

        It 'reports a name no process has' {
            { Get-EpollInterest -Name 'no-such-process-x' -ErrorAction Stop } | Should -Throw -ErrorId 'NoProcessFoundForGivenName,*'
        }

        It 'reports a process that does not exist as not found' {
            $gone = [System.Diagnostics.Process]::Start('/bin/true')
            $gone.WaitForExit()
            $err = { Get-EpollInterest -Id $gone.Id -ErrorAction Stop } | Should -Throw -ErrorId 'NoProcessFoundForGivenId,*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.TargetObject | Should -Be $gone.Id
            $gone.Dispose()
        }

        It 'reports an epoll fd the process does not have' {
            { Get-EpollInterest -Id $fx.pid -EpollFd $fx.listener -ErrorAction Stop } | Should -Throw -ErrorId 'EpollFdNotFound,*'
        }

        It 'goes on past the processes that fail, in one call' {
            $errors = $null
            $result = @(Get-EpollInterest -Id 2147483, $fx.pid -EpollFd $fx.epoll -ErrorAction SilentlyContinue -ErrorVariable errors)
            $result | Should -HaveCount 14
            $errors | Should -HaveCount 1
        }

        It 'completes -All over the whole host, with processes starting and exiting meanwhile' {
            $churn = [System.Diagnostics.Process]::Start('/bin/sh', '-c "for i in $(seq 300); do /bin/true; done"')
            try {
                $all = @(Get-EpollInterest -All -ErrorAction Stop -WarningAction SilentlyContinue)
                @($all | Where-Object { $_.ProcessId -eq $fx.pid }).Count | Should -BeGreaterThan 10
                @($all | Where-Object { $_.ProcessId -eq [Environment]::ProcessId }).Count | Should -BeGreaterThan 0
            }
            finally { $churn.WaitForExit(); $churn.Dispose() }
        }
    }

    Context 'permissions' {
        It 'tells an unprivileged user that reading a root process needs ptrace access, never that it has nothing' -Skip:(-not $canSwitchUser) {
            # One pwsh as uid 65534 runs three calls: the whole process, one epoll fd of it, and a search by name.
            $script = @"
function Show(`$label, [scriptblock] `$call) {
    try { `$null = & `$call; "`$label=no error" }
    catch { "`$label=" + `$_.FullyQualifiedErrorId + '|' + `$_.CategoryInfo.Category + '|' + `$_.ErrorDetails.Message }
}
Show WHOLE { Get-EpollInterest -Id $($fx.pid) -ErrorAction Stop }
Show EPOLLFD { Get-EpollInterest -Id $($fx.pid) -EpollFd $($fx.epoll) -ErrorAction Stop }
`$null = Get-EpollInterest -Name epoll-fixture -WarningVariable w -WarningAction SilentlyContinue
'WARNING=' + (`$w -join ' / ')
"@
            $lines = @(Invoke-PwshAsNobody $script)
            $text = $lines -join "`n"
            $text | Should -Match "WHOLE=ProcessAccessDenied,EpollTools.Commands.GetEpollInterestCommand\|PermissionDenied\|.*process $($fx.pid) \(epoll-fixture\).*ptrace"
            $text | Should -Match "EPOLLFD=ProcessAccessDenied,EpollTools.Commands.GetEpollInterestCommand\|PermissionDenied\|"
            # The fixture and its forked child: both named, in the plural, with advice fit for a non-root caller.
            $text | Should -Match "WARNING=2 processes could not be read: $($fx.pid) \(epoll-fixture\), \d+ \(epoll-fixture\)\. Why: reading another user's fds needs ptrace read access: run as root or with CAP_SYS_PTRACE\."
        }
    }
}

Describe 'Get-EpollInterest on a large instance' {
    BeforeAll {
        $holderExe = Build-Fixture 'epoll-holder' $workDir
    }

    It 'reports anonymous-inode lines beyond the exact-check limit as Unknown, never guessed current' {
        $count = [EpollTools.Core.Interest.RegistrationJudge]::ExactCheckLimit + 10
        $holder = Start-Helper $holderExe "$count"
        try {
            $holderPid, $holderEpfd = $holder.StandardOutput.ReadLine().Split(' ')
            $entries = @(Get-EpollInterest -Id $holderPid -EpollFd $holderEpfd)
            $entries | Should -HaveCount $count
            @($entries | Where-Object { $_.State -ne 'Unknown' }) | Should -HaveCount 0
            # What each fd is now is said, as unproven: an Unknown row never names a target it did not prove.
            $entries[0].TargetKind | Should -Be 'Unknown'
            $entries[0].Target | Should -Match "^unproven: fd $($entries[0].TargetFd) is now eventfd count="
            $entries[0].Flags | Should -Be 'IN|ERR|HUP|ET'
        }
        finally { Stop-Helper $holder }
    }

    It 'checks a pipe line by the inode its link shows, at any size' {
        $holder = Start-Helper $holderExe "$([EpollTools.Core.Interest.RegistrationJudge]::ExactCheckLimit + 10) pipes"
        try {
            $holderPid, $holderEpfd = $holder.StandardOutput.ReadLine().Split(' ')
            $entries = @(Get-EpollInterest -Id $holderPid -EpollFd $holderEpfd)
            $entries.Count | Should -BeGreaterThan ([EpollTools.Core.Interest.RegistrationJudge]::ExactCheckLimit)
            @($entries | Where-Object { $_.State -ne 'Current' }) | Should -HaveCount 0
            $entries[0].TargetKind | Should -Be 'Pipe'
        }
        finally { Stop-Helper $holder }
    }

    It 'resolves an instance shared by forked workers in the worker that registered each line, past the exact-check limit' {
        $count = [EpollTools.Core.Interest.RegistrationJudge]::ExactCheckLimit + 10
        $holder = Start-Helper $holderExe "$count pipes 2"
        try {
            $holderPid, $holderEpfd, $workers = $holder.StandardOutput.ReadLine().Split(' ')
            $entries = @(Get-EpollInterest -Id (@($holderPid) + $workers) -EpollFd $holderEpfd)
            $entries | Should -HaveCount $count
            @($entries | Where-Object { $_.State -ne 'Current' }) | Should -HaveCount 0
            @($entries | Where-Object { $workers -notcontains $_.TargetProcessId }) | Should -HaveCount 0
            @($entries | Where-Object { $_.TargetProcessId -eq $workers[0] }).Count | Should -Be ([Math]::Ceiling($count / 2))
            $entries[0].Holders | Should -HaveCount 3

            # The parent alone holds none of those fds: from its side every line is stale.
            $parentOnly = @(Get-EpollInterest -Id $holderPid -EpollFd $holderEpfd)
            @($parentOnly | Where-Object { $_.State -eq 'Current' }) | Should -HaveCount 0
        }
        finally { Stop-Helper $holder }
    }
}

Describe 'Get-EpollInterest on this process' {
    It 'shows the .NET socket engine''s edge-triggered registrations' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $client = [System.Net.Sockets.TcpClient]::new()
        try {
            $port = $listener.LocalEndpoint.Port
            $accept = $listener.AcceptTcpClientAsync()
            $client.ConnectAsync([System.Net.IPAddress]::Loopback, $port).Wait(10000) | Should -BeTrue
            $accept.Wait(10000) | Should -BeTrue
            $buffer = [byte[]]::new(1)
            $pending = $client.GetStream().ReadAsync($buffer, 0, 1)
            $engine = @(Get-EpollInterest | Where-Object { $_.TargetKind -eq 'Socket' -and $_.Target -match "127\.0\.0\.1:$port" })
            $engine.Count | Should -BeGreaterThan 0
            $engine[0].Flags | Should -Match '\bET\b'
            $engine[0].State | Should -Be 'Current'
            $accept.Result.Dispose()
        }
        finally { $client.Dispose(); $listener.Stop() }
    }

    It 'sees the module''s own epoll instances' {
        $ep = New-EpollInstance
        $pipe = New-Pipe
        try {
            Add-EpollFd -Instance $ep -Fd $pipe.ReadEnd -Events In, ET -Data 77
            $entry = Get-EpollInterest -EpollFd $ep.Fd
            $entry.TargetFd | Should -Be $pipe.ReadEnd.Fd
            $entry.Data | Should -Be 77
            $entry.Target | Should -Match "^pipe:\[\d+\] read end; writers: $([Environment]::ProcessId) \S+ fd $($pipe.WriteEnd.Fd)$"
        }
        finally { $ep.Dispose(); $pipe.Dispose() }
    }

    It 'survives serialization with its key properties' {
        $ep = New-EpollInstance
        $efd = New-EventFd
        try {
            Add-EpollFd -Instance $ep -Fd $efd -Events In, ET
            $entry = Get-EpollInterest -EpollFd $ep.Fd
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($entry))
            $copy.PSObject.TypeNames[0] | Should -Be 'Deserialized.EpollTools.Core.Proc.EpollInterest'
            foreach ($name in 'ProcessId', 'EpollFd', 'TargetFd', 'Flags', 'EventsHex', 'DataHex', 'Target', 'State', 'TargetKind') {
                "$($copy.$name)" | Should -Be "$($entry.$name)"
            }
        }
        finally { $ep.Dispose(); $efd.Dispose() }
    }
}

Describe 'Get-FdInfo on the fixture' {
    BeforeAll {
        $fds = @(Get-FdInfo -Id $fx.pid)
        function Get-Fd([int] $Fd) { $fds | Where-Object { $_.Fd -eq $Fd } }
    }

    It 'lists every fd with its type' {
        (Get-Fd $fx.listener).Type | Should -Be 'Socket'
        (Get-Fd $fx.pipe_read).Type | Should -Be 'Pipe'
        (Get-Fd $fx.eventfd).Type | Should -Be 'EventFd'
        (Get-Fd $fx.timerfd).Type | Should -Be 'TimerFd'
        (Get-Fd $fx.signalfd).Type | Should -Be 'SignalFd'
        (Get-Fd $fx.epoll).Type | Should -Be 'Epoll'
    }

    It 'decodes the open flags from octal' {
        (Get-Fd $fx.pipe_read).FlagNames | Should -Be 'O_RDONLY'
        (Get-Fd $fx.eventfd).FlagNames | Should -Be 'O_RDWR'
        (Get-Fd $fx.eventfd).Flags | Should -Be 2
    }

    It 'keeps every type-specific field' {
        (Get-Fd $fx.eventfd).Fields['eventfd-count'] | Should -Match '^\s*5$'
        (Get-Fd $fx.timerfd).Fields['clockid'] | Should -Be '1'
        (Get-Fd $fx.timerfd).Fields['it_interval'] | Should -Be '(30, 0)'
        (Get-Fd $fx.signalfd).Fields['sigmask'] | Should -Be '0000000000000a00'
        (Get-Fd $fx.epoll).EpollTargets | Should -HaveCount 14
        (Get-Fd $fx.pidfd).Fields['Pid'] | Should -Be "$($fx.child)"
        (Get-Fd $fx.inotify).Watches | Should -HaveCount 1
        (Get-Fd $fx.inotify).Watches[0] | Should -Match '^inotify wd:1 '
        (Get-Fd $fx.epoll).Ino | Should -BeGreaterThan 0
        (Get-Fd $fx.epoll).MntId | Should -BeGreaterThan 0
    }

    It 'gives only the fds asked for, and reports one the process lacks' {
        $errors = $null
        $some = @(Get-FdInfo -Id $fx.pid -Fd $fx.eventfd, 1000 -ErrorAction SilentlyContinue -ErrorVariable errors)
        $some | Should -HaveCount 1
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Match '^FdNotFound,'
    }
}
