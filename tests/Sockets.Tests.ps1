# End-to-end: sockets described as ss describes them (netlink sock_diag: unix names length-prefixed, peers, queues),
# checked against ss itself, and a forged /proc/net/unix line from an unprivileged user (tests/fixtures/unix-forger.c)
# naming a root process's netlink socket (tests/fixtures/netlink-watcher.c), which must not change what root is shown.

BeforeDiscovery {
    $canSwitchUser = [Environment]::UserName -eq 'root' -and [IO.File]::Exists('/usr/bin/setpriv')
    $hasSs = [IO.File]::Exists('/usr/bin/ss') -or [IO.File]::Exists('/bin/ss')
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
    $workDir = New-WorkDirectory

    function Get-SocketInode([int] $Fd) {
        [uint64] ([regex]::Match(([IO.FileInfo]::new("/proc/self/fd/$Fd")).LinkTarget, '^socket:\[(\d+)\]$').Groups[1].Value)
    }
}

AfterAll {
    try { [IO.Directory]::Delete($workDir, $true) }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'A unix socket pair, against ss' -Skip:(-not $hasSs) {
    BeforeAll {
        $pair = New-SocketPair
        $ep = New-EpollInstance
        $ep | Add-EpollFd -Fd $pair.Second -Events In
        Write-Fd $pair.First -Bytes ([byte[]] (1..25))
        $first = Get-SocketInode $pair.First.Fd
        $second = Get-SocketInode $pair.Second.Fd
    }

    AfterAll { $ep.Dispose(); Close-Fd $pair }

    It 'names the peer, who holds it, and the unread bytes, as ss -xp does' {
        $row = Get-EpollInterest -Id $PID -EpollFd $ep.Fd
        $comm = [IO.File]::ReadAllText("/proc/$PID/comm").TrimEnd("`n")
        $row.Target | Should -Be "UNIX STREAM CONNECTED, 25 bytes unread, peer socket:[$first] held by $($PID):$($pair.First.Fd) ($comm)"

        # ss: "u_str ESTAB <Recv-Q> <Send-Q> * <inode> * <peer inode>"
        $line = @(& ss -xa | Where-Object { $_ -match "^\S+\s+\S+\s+\d+\s+\d+\s+\S+\s+$second\s+\S+\s+\d+" })
        $line | Should -HaveCount 1
        $fields = $line[0] -split '\s+'
        $fields[2] | Should -Be '25'
        $fields[7] | Should -Be "$first"
    }
}

Describe 'A TCP connection whose reader is slow, against ss' -Skip:(-not $hasSs) {
    It 'names the bytes unread on one side and not yet taken on the other, as ss -tn Recv-Q and Send-Q' {
        $connection = New-LoopbackConnection
        try {
            # Send until the kernel takes no more: the reader's queue and then the sender's are full, and stay so.
            $connection.Client.Blocking = $false
            $chunk = [byte[]]::new(65536)
            try { while ($true) { $null = $connection.Client.Send($chunk) } } catch [Net.Sockets.SocketException] { }
            $clientFd = $connection.ClientFd
            $serverFd = $connection.ServerFd
            $port = $connection.Client.LocalEndPoint.Port

            # ss: "ESTAB <Recv-Q> <Send-Q> <local> <peer>", for each end. The kernel may still be moving data for a
            # moment (window growth): compared when ss reads the same before and after ours.
            function Get-Queue { "$(@(& ss -tnH "sport = :$port") -split '\s+' | Select-Object -Index 2) $(@(& ss -tnH "dport = :$port") -split '\s+' | Select-Object -Index 1)" }
            $compared = Wait-Until {
                $before = Get-Queue
                $ours = '{0} {1}' -f ([regex]::Match((Get-FdInfo -Fd $clientFd).Target, '(\d+) bytes not yet taken by the peer(,|$)').Groups[1].Value),
                    ([regex]::Match((Get-FdInfo -Fd $serverFd).Target, 'ESTABLISHED, (\d+) bytes unread(,|$)').Groups[1].Value)
                $before -eq (Get-Queue) -and $before -eq $ours
            }
            $compared | Should -BeTrue -Because "ss said '$(Get-Queue)' (Send-Q of the sender, Recv-Q of the reader)"
            [long] ((Get-Queue) -split ' ')[0] | Should -BeGreaterThan 0
        }
        finally { $connection.Dispose() }
    }
}

Describe 'A TCP connection''s traffic, against ss -ti' -Skip:(-not $hasSs) {
    It 'says the bytes each way, how long it has been idle and the rtt, as tcp_info has them' {
        $connection = New-LoopbackConnection
        try {
            $null = $connection.Client.Send([byte[]]::new(25))
            $null = $connection.Server.Send([byte[]]::new(7))
            Start-Sleep -Milliseconds 1200
            $port = $connection.Client.LocalEndPoint.Port
            $serverPort = $connection.Server.LocalEndPoint.Port
            # ss -ti, the accepted end (its peer is the client's port; both ports named, so that another connection
            # of the host whose peer happens to use the same port number is never read): bytes_received, bytes_sent,
            # rtt, lastrcv.
            $facts = -join @(& ss -tinH "dport = :$port and sport = :$serverPort")
            [regex]::Match($facts, '\bbytes_received:(\d+)').Groups[1].Value | Should -Be '25'
            [regex]::Match($facts, '\bbytes_sent:(\d+)').Groups[1].Value | Should -Be '7'
            $target = (Get-FdInfo -Fd $connection.ServerFd).Target
            $target | Should -Match ', idle (1\.[2-9]|[2-9](\.\d)?) s, 25 B in, 7 B out, rtt [\d.]+ ms$'
            # The rtt of an idle connection does not move: the same as ss's smoothed rtt.
            $ssRtt = [double] [regex]::Match($facts, '\brtt:([\d.]+)/').Groups[1].Value
            [double] [regex]::Match($target, 'rtt ([\d.]+) ms').Groups[1].Value | Should -Be $ssRtt
        }
        finally { $connection.Dispose() }
    }

    It 'reads IPv6 connections and UDP sockets from netlink too' {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::IPv6Loopback, 0)
        $listener.Start()
        $client = [Net.Sockets.TcpClient]::new([Net.Sockets.AddressFamily]::InterNetworkV6)
        $udp = [Net.Sockets.UdpClient]::new(0)
        try {
            $client.Connect([Net.IPAddress]::IPv6Loopback, $listener.LocalEndpoint.Port)
            $accepted = $listener.AcceptSocket()
            (Get-FdInfo -Fd ([int] $accepted.Handle)).Target | Should -Match "^TCP6 \[::1\]:$($listener.LocalEndpoint.Port) -> \[::1\]:\d+ ESTABLISHED, idle "
            (Get-FdInfo -Fd ([int] $udp.Client.Handle)).Target | Should -Be "UDP 0.0.0.0:$($udp.Client.LocalEndPoint.Port) UNCONNECTED"
            $accepted.Dispose()
        }
        finally { $client.Dispose(); $udp.Dispose(); $listener.Stop() }
    }
}

Describe 'A forged /proc/net/unix line, in <Where>' -Skip:(-not $canSwitchUser) -ForEach @(
    @{ Where = 'this network namespace'; Namespace = $null }
    @{ Where = 'another network namespace'; Namespace = "epolltools-$PID" }) {
    BeforeAll {
        # In another namespace, both processes run there (ip netns exec); the module reads it from here.
        $prefix = ''
        if ($Namespace) {
            & ip netns add $Namespace
            if ($LASTEXITCODE -ne 0) { throw "ip netns add $Namespace failed" }
            $prefix = "netns exec $Namespace "
        }

        # The victim: a netlink socket (in no inet or unix table) that a root process's epoll instance watches.
        $watcherExe = Build-Fixture 'netlink-watcher' $workDir
        $watcher = if ($Namespace) { Start-Fixture '/usr/sbin/ip' "${prefix}$watcherExe" } else { Start-Fixture $watcherExe '' }
        $victim = [uint64] ([regex]::Match(([IO.FileInfo]::new("/proc/$($watcher.pid)/fd/$($watcher.netlink)")).LinkTarget, '^socket:\[(\d+)\]$').Groups[1].Value)

        # The forger runs as nobody. A short directory: the forged line, path included, must fit in a socket
        # address (108 bytes).
        $forgerExe = Build-Fixture 'unix-forger' $workDir
        $evilDir = "/tmp/ev$([Guid]::NewGuid().ToString('N').Substring(0, 6))"
        $null = [IO.Directory]::CreateDirectory($evilDir)
        & chmod 0755 $workDir $forgerExe
        & chmod 0777 $evilDir
        $forger = Start-Helper $(if ($Namespace) { '/usr/sbin/ip' } else { '/usr/bin/setpriv' }) "$(if ($Namespace) { "${prefix}/usr/bin/setpriv " })--reuid=65534 --regid=65534 --clear-groups -- $forgerExe $victim $evilDir"
        $ready = $forger.StandardOutput.ReadLine()
    }

    AfterAll {
        Stop-Helper $forger
        Stop-Helper $watcher.Process
        [IO.Directory]::Delete($evilDir, $true)
        if ($Namespace) { & ip netns delete $Namespace }
    }

    It 'is really in the table the module would read (else this test proves nothing)' {
        $ready | Should -Be 'ready'
        [IO.File]::ReadAllText("/proc/$($watcher.pid)/net/unix") | Should -Match "(?m)^0000000000000000: 00000002 00000000 00010000 0001 01 $victim $([regex]::Escape($evilDir))/evil\.sock"
    }

    It 'does not make root see a netlink socket as the forged unix socket' {
        $row = Get-EpollInterest -Id $watcher.pid
        $row.TargetFd | Should -Be $watcher.netlink
        $row.TargetKind | Should -Be 'Socket'
        $row.Target | Should -Not -Match 'UNIX|evil'
    }

    It 'does not list the watcher as a watcher of the forged path' {
        $rows = @(Get-EpollInterest -Target "$evilDir/evil.sock" -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        @($rows | Where-Object ProcessId -eq $watcher.pid) | Should -HaveCount 0
    }
}
