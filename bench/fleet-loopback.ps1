<#
.SYNOPSIS
    What a fleet sweep costs per host, measured over SSH on loopback: opening a session, importing the module there,
    and Get-EpollInterest -All / Get-MultiplexerWait -All through Invoke-Command against the same calls run locally
    (ratios printed), with the size of what crosses the wire (CLIXML, before SSH's own framing). Then the same for
    simulated fleets of -Hosts hosts (8, 16, 32): each an sshd in its own PID namespace on its own loopback address
    with one stuck process, opened with one New-PSSession and swept with Invoke-Command: the cost per host.

.DESCRIPTION
    Needs root, Debian's openssh-server (/usr/sbin/sshd), ssh-keygen, unshare and gcc; starts its own sshds on free
    loopback ports with throwaway keys in a temporary directory, and stops them at the end. Run it from the
    repository root after a build: dotnet pwsh -NoProfile -File bench/fleet-loopback.ps1 [-Hosts 8, 16, 32]
#>
param([int[]] $Hosts = @(8, 16, 32))
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
    Import-Module ([IO.Path]::Combine($root, 'tests', 'TestHelpers.psm1'))
    $server = Start-LoopbackSshd ([IO.Directory]::CreateDirectory([IO.Path]::Combine($dir, 'single')).FullName)
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
    Remove-PSSession $session; $session = $null
    Stop-LoopbackSshd $server.Process; $server = $null

    # Simulated fleets: what one more host costs when many are swept at once.
    $shapesExe = Build-Fixture 'stuck-shapes' $dir
    $userKey = New-LoopbackUserKey $dir
    $sweep = { Get-MultiplexerWait -All -WarningAction SilentlyContinue }
    Write-Host "Simulated fleets (each host an sshd in its own PID namespace with one stuck process; best of 3 sweeps of Get-MultiplexerWait -All)"
    foreach ($count in $Hosts) {
        $addresses = @(2..($count + 1) | ForEach-Object { "127.0.0.$_" })
        $port = Get-FreeLoopbackPort $addresses
        $fleet = foreach ($address in $addresses) {
            $hostDir = [IO.Directory]::CreateDirectory([IO.Path]::Combine($dir, "$count-$address")).FullName
            Start-LoopbackSshd -Directory $hostDir -Address $address -Port $port -UserKey $userKey -OwnPidNamespace -Fixture @(, @($shapesExe, 'oneshot'))
        }
        try {
            $options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
            $open = (Measure-Command { $sessions = @(New-PSSession -HostName $addresses -Port $port -UserName root -KeyFilePath $userKey -Options $options) }).TotalMilliseconds
            $import = (Measure-Command { Invoke-Command -Session $sessions { param($m) Import-Module $m } -ArgumentList $manifest }).TotalMilliseconds
            # Every host warmed first: right after the import, each pwsh still compiles in the background, and on a
            # small machine N of them at once slow whichever host is measured alone.
            1..2 | ForEach-Object { $null = Invoke-Command -Session $sessions $sweep }
            $one = Best { Invoke-Command -Session $sessions[0] $sweep } 3
            $all = Best { Invoke-Command -Session $sessions $sweep } 3
            $two = Best { Invoke-Command -Session $sessions -ThrottleLimit 2 $sweep } 3
            Write-Host ("   {0,2} hosts: open {1,6:N0} ms ({2:0} per host); import {3,5:N0} ms ({4:0} per host); sweep {5,5:N0} ms ({6:0.0} per host, {7:0.0}x one host's {8:0} ms); with -ThrottleLimit 2: {9:N0} ms" -f `
                    $count, $open, ($open / $count), $import, ($import / $count), $all, ($all / $count), ($all / $one), $one, $two)
        }
        finally {
            if ($sessions) { Remove-PSSession $sessions; $sessions = $null }
            foreach ($fleetHost in $fleet) { Stop-LoopbackSshd $fleetHost.Process }
        }
    }
}
finally {
    if ($session) { Remove-PSSession $session }
    if ($server) { Stop-LoopbackSshd $server.Process }
    [IO.Directory]::Delete($dir, $true)
}
