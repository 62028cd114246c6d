<#
.SYNOPSIS
    What a fleet sweep costs per host, measured over SSH on loopback: opening a session, importing the module there,
    and Get-EpollInterest -All / Get-MultiplexerWait -All through Invoke-Command against the same calls run locally
    (ratios printed), with the size of what crosses the wire (CLIXML, before SSH's own framing).

.DESCRIPTION
    Needs root, Debian's openssh-server (/usr/sbin/sshd) and ssh-keygen; starts its own sshd on a free loopback port
    with throwaway keys in a temporary directory, and stops it at the end. Run it from the repository root after a
    build: dotnet pwsh -NoProfile -File bench/fleet-loopback.ps1
#>
$ErrorActionPreference = 'Stop'
$root = [IO.Path]::GetFullPath([IO.Path]::Combine($PSScriptRoot, '..'))
$manifest = [IO.Path]::Combine($root, 'EpollTools.psd1')
Import-Module $manifest
$dir = [IO.Path]::Combine([IO.Path]::GetTempPath(), 'epolltools-fleet-' + [Guid]::NewGuid().ToString('N'))
$null = [IO.Directory]::CreateDirectory($dir)
$server = $null
$session = $null
try {
    Import-Module ([IO.Path]::Combine($root, 'tests', 'LoopbackSshd.psm1'))
    $server = Start-LoopbackSshd $dir
    $connection = $server.Connection
    function Best([scriptblock] $Measure, [int] $Runs = 5) {
        $null = & $Measure   # warm-up
        (1..$Runs | ForEach-Object { (Measure-Command { $null = & $Measure }).TotalMilliseconds } | Measure-Object -Minimum).Minimum
    }

    $open = (Measure-Command { $session = New-PSSession @connection }).TotalMilliseconds
    $import = (Measure-Command { Invoke-Command -Session $session { param($m) Import-Module $m } -ArgumentList $manifest }).TotalMilliseconds
    $empty = Best { Invoke-Command -Session $session { } }
    Write-Host "EpollTools fleet cost on loopback (best of 5; the remote side is this machine, so only the transport differs)"
    Write-Host ("   open a session (ssh, authenticate, start pwsh): {0:0} ms; import the module there: {1:0} ms; an empty Invoke-Command: {2:0.0} ms" -f $open, $import, $empty)
    foreach ($command in 'Get-EpollInterest -All -WarningAction SilentlyContinue', 'Get-MultiplexerWait -All -WarningAction SilentlyContinue') {
        $block = [scriptblock]::Create($command)
        $local = Best { & $block }
        $remote = Best { Invoke-Command -Session $session $block }
        $rows = @(Invoke-Command -Session $session $block)
        $bytes = [Text.Encoding]::UTF8.GetByteCount([Management.Automation.PSSerializer]::Serialize($rows))
        Write-Host ("   {0}: {1} objects, {2:0.0} ms through Invoke-Command vs {3:0.0} ms locally = {4:0.00}x; {5:N0} bytes of CLIXML ({6:N0} per object)" -f `
                ($command.Split(' ')[0] + ' -All'), $rows.Count, $remote, $local, ($remote / $local), $bytes, ($bytes / [Math]::Max(1, $rows.Count)))
    }
}
finally {
    if ($session) { Remove-PSSession $session }
    if ($server) { Stop-LoopbackSshd $server.Process }
    [IO.Directory]::Delete($dir, $true)
}
