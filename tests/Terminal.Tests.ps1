# End-to-end: the default views as a user meets them, in a real 80-column terminal: pwsh runs under script(1) on a
# pseudo-terminal set to 80 columns (stty), and what it draws is captured. Out-String -Width is not the same: the
# host wraps at the terminal's width minus one, and a table cell wider than its column is split where it falls.

BeforeDiscovery {
    $hasScript = [IO.File]::Exists('/usr/bin/script')
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
    $workDir = New-WorkDirectory
    $shapesExe = Build-Fixture 'stuck-shapes' $workDir
    $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
    $pwsh = [IO.Path]::Combine($PSHOME, 'pwsh.dll')

    # Runs -Script in a pwsh on an 80-column terminal; returns the screen's lines, escape sequences removed.
    function Invoke-InTerminal([string] $Script) {
        $path = [IO.Path]::Combine($workDir, "terminal-$([Guid]::NewGuid().ToString('N')).ps1")
        [IO.File]::WriteAllText($path, "Import-Module '$manifest'`n$Script")
        $command = "stty cols 80 rows 200; exec dotnet '$pwsh' -NoProfile -NonInteractive -File '$path'"
        $text = (& /usr/bin/script -qfec $command /dev/null 2>&1) -join "`n"
        $plain = [regex]::Replace($text, '\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07|\r', '')
        @($plain -split "`n")
    }

    function Assert-Fits([string[]] $Lines) {
        @($Lines | Where-Object { $_.Length -gt 80 }) | Should -BeNullOrEmpty
    }
}

AfterAll {
    try { [IO.Directory]::Delete($workDir, $true) }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'The default views in a real 80-column terminal' -Skip:(-not $hasScript) {
    BeforeAll {
        $edge = Start-Fixture $shapesExe 'edge'
    }

    AfterAll { Stop-Helper $edge.Process }

    It 'draws Get-MultiplexerWait within 80 columns, the call and the wait whole' {
        $lines = Invoke-InTerminal "Get-MultiplexerWait -Id $($edge.pid)"
        Assert-Fits $lines
        $row = @($lines | Where-Object { $_ -match '^\s+\d+ loop\s' })
        $row | Should -HaveCount 1 -Because ($lines -join "`n")
        $row[0] | Should -Match '\sS\s+epoll_pwait\s+\S+\s+infinite epoll fd \d+ \(1 registered\)$'
    }

    It 'draws Get-EpollInterest -Readiness within 80 columns, wrapping the target at spaces' {
        $lines = Invoke-InTerminal "Get-EpollInterest -Id $($edge.pid) -Readiness"
        Assert-Fits $lines
        $text = $lines -join "`n"
        $text | Should -Match "(?m)^\s+$($edge.socket) IN\|ET\s+IN\|OUT\s+UNIX STREAM CONNECTED, 90 bytes unread,$"
        $text | Should -Match '(?m)^\s+peer socket:\[\d+\] held by \d+:\d+$'
        $text | Should -Match '(?m)^\s+! edge-triggered, IN ready now$'
    }

    It 'draws Get-EpollInterest within 80 columns' {
        $lines = Invoke-InTerminal "Get-EpollInterest -Id $($edge.pid)"
        Assert-Fits $lines
        ($lines -join "`n") | Should -Match "(?m)^\s+$($edge.socket) IN\|ET\s+0x2002 UNIX STREAM CONNECTED, 90 bytes$"
    }

    It 'draws Get-EpollInterest -TargetPort within 80 columns, counted and per connection' {
        $mix = Start-Fixture $shapesExe 'exclusive-mix'
        try {
            # Each command to the host on its own, as at a prompt (one script's output is one table otherwise).
            $lines = Invoke-InTerminal "Get-EpollInterest -TargetPort $($mix.port) -WarningAction SilentlyContinue | Out-Host; Get-EpollInterest -TargetPort $($mix.port) -PerConnection -WarningAction SilentlyContinue | Out-Host"
            Assert-Fits $lines
            $text = $lines -join "`n"
            $text | Should -Match "(?m)^\s*$($mix.port)\s+$($mix.pid) stuck-shap\S+\s+\d+\s+1\s+0 waiting: tid \d+$"
            @($lines | Where-Object { $_ -match '^\s+! 3 instances, 2 EXCLUSIVE$' }) | Should -HaveCount 6 -Because $text
        }
        finally { Stop-Helper $mix.Process }
    }

    It 'draws Get-FdInfo within 80 columns: flags split between flags, a socket''s peer whole' {
        $lines = Invoke-InTerminal @'
$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $listener.Start()
$client = [Net.Sockets.TcpClient]::new(); $client.Connect([Net.IPAddress]::Loopback, $listener.LocalEndpoint.Port)
Get-FdInfo -Id $PID | Where-Object Type -eq Socket
'@
        Assert-Fits $lines
        $text = $lines -join "`n"
        $text | Should -Match '(?m)\sTCP6? 127\.0\.0\.1:\d+ ->$'
        $text | Should -Match '(?m)^\s+127\.0\.0\.1:\d+$'
        $text | Should -Match '(?m)^\s+ESTABLISHED, idle'
        $text | Should -Not -Match 'ESTA\s*$'
    }

    It 'draws Trace-EpollInterest within 80 columns' {
        $lines = Invoke-InTerminal @'
$ep = New-EpollInstance; $efd = New-EventFd
$manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
$job = Start-ThreadJob -ScriptBlock { Import-Module $using:manifest; Start-Sleep -Milliseconds 400; Add-EpollFd -Instance $using:ep -Fd $using:efd -Events In, ET -Data 0x7 }
Trace-EpollInterest -Id $PID -EpollFd $ep.Fd -Interval 20 -Duration 1500
$null = $job | Wait-Job; $ep.Dispose(); $efd.Dispose()
'@
        Assert-Fits $lines
        $text = $lines -join "`n"
        $text | Should -Match 'Tracing 1 epoll instance \(0 registrations\) every 20 ms for 1500 ms\.'
        $text | Should -Match '(?m)\sAdded\s+\d+\s.*IN\|ET'
    }
}
