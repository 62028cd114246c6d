<#
.SYNOPSIS
    An sshd of one's own on a loopback address, for PowerShell remoting over SSH without touching the host's: a
    throwaway host key and user key, a free port, and this pwsh as the "powershell" subsystem. With -OwnPidNamespace
    it is a simulated host: the sshd, its sessions and the fixture processes it is given run in a PID and mount
    namespace of their own (unshare --pid --fork --mount-proc), so /proc there shows that host's processes only.
    Used by tests/Remoting.Tests.ps1, tests/Fleet.Tests.ps1 and bench/fleet-loopback.ps1. Needs root, Debian's
    openssh-server (/usr/sbin/sshd) and util-linux's unshare.
#>

<#
.SYNOPSIS
    Why simulated hosts cannot run here (for a test's -Skip and the message it prints), or nothing when they can.
#>
function Get-SimulatedHostObstacle {
    if (-not [IO.File]::Exists('/usr/sbin/sshd')) { "no /usr/sbin/sshd (Debian's openssh-server; .ci/run installs it)" }
    elseif (-not [IO.File]::Exists('/usr/bin/unshare')) { 'no /usr/bin/unshare (util-linux)' }
    elseif ([Environment]::UserName -ne 'root') { 'the hosts are sshds in namespaces of their own: that needs root' }
}

<#
.SYNOPSIS
    Makes the user key every host of a fleet accepts (in -Directory) and returns its path.
#>
function New-LoopbackUserKey([string] $Directory) {
    $key = [IO.Path]::Combine($Directory, 'user_key')
    & ssh-keygen -q -t ed25519 -N '' -f $key
    $key
}

<#
.SYNOPSIS
    A port free on every one of -Address: the kernel picks one on the first, and it is checked on the others (a
    fleet whose hosts all listen on one port is reached with one New-PSSession -HostName a, b, c -Port p).
#>
function Get-FreeLoopbackPort([string[]] $Address) {
    for ($attempt = 0; $attempt -lt 20; $attempt++) {
        $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse($Address[0]), 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $free = $true
        foreach ($other in $Address | Select-Object -Skip 1) {
            $check = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Parse($other), $port)
            try { $check.Start() } catch { $free = $false; break } finally { $check.Stop() }
        }
        if ($free) { return $port }
    }
    throw "No port free on all of $($Address -join ', ') in 20 tries."
}

<#
.SYNOPSIS
    Starts the sshd and waits until it listens. Returns Process (stop it with Stop-LoopbackSshd), Address,
    Connection (the splat for New-PSSession: host, port, user, key and the options that skip host-key checks for a
    throwaway key) and, for a simulated host, Fixtures: each fixture's "name value" lines as a hashtable (pids as the
    host's own namespace numbers them).

.PARAMETER ComputerName
    With -OwnPidNamespace: the host's name (its own UTS namespace), which the module's objects name it by.

.PARAMETER Fixture
    With -OwnPidNamespace: programs to start inside the host before its sshd, each a string array (the program, then
    its arguments). Each must print "ready" on its standard output once set up (the fixtures' protocol); the sshd
    starts only after all have. They live as long as the host: stopping it ends its namespace and everything in it.
#>
function Start-LoopbackSshd {
    param(
        [string] $Directory,
        [string] $Sshd = '/usr/sbin/sshd',
        [string] $Address = '127.0.0.1',
        [int] $Port,
        [string] $UserKey,
        [switch] $OwnPidNamespace,
        [string] $ComputerName,
        [object[]] $Fixture = @())

    if (-not $UserKey) { $UserKey = New-LoopbackUserKey $Directory }
    & ssh-keygen -q -t ed25519 -N '' -f ([IO.Path]::Combine($Directory, 'host_key'))
    Copy-Item "$UserKey.pub" ([IO.Path]::Combine($Directory, 'authorized_keys'))

    $port = if ($Port) { $Port } else { Get-FreeLoopbackPort $Address }

    $config = [IO.Path]::Combine($Directory, 'sshd_config')
    [IO.File]::WriteAllLines($config, [string[]] @(
            "Port $port", "ListenAddress $Address",
            "HostKey $Directory/host_key", "PidFile $Directory/sshd.pid", "AuthorizedKeysFile $Directory/authorized_keys",
            'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
            'UsePAM no', 'StrictModes no',
            "Subsystem powershell $((Get-Command dotnet).Source) $([IO.Path]::Combine($PSHOME, 'pwsh.dll')) -sshs -NoLogo -NoProfile"))
    $null = [IO.Directory]::CreateDirectory('/run/sshd')   # sshd's privilege separation directory

    [string[]] $command = if ($OwnPidNamespace) {
        # --kill-child: when unshare dies, the namespace's first process does, and with it every process inside.
        # --uts: a host name of its own (-ComputerName), as [Environment]::MachineName reads it there.
        @('/usr/bin/unshare', '--pid', '--fork', '--mount-proc', '--uts', '--kill-child', '/bin/sh', (Write-HostScript $Directory $Sshd $config $Fixture $ComputerName))
    }
    else { @($Sshd, '-D', '-e', '-f', $config) }
    $start = [Diagnostics.ProcessStartInfo]::new($command[0])
    foreach ($argument in $command | Select-Object -Skip 1) { $start.ArgumentList.Add($argument) }
    # Both drained: the log (-e) never fills a pipe, and no process of the host holds this process's output open.
    $start.RedirectStandardError = $true
    $start.RedirectStandardOutput = $true
    $process = [Diagnostics.Process]::Start($start)
    $null = $process.StandardError.ReadToEndAsync()
    $null = $process.StandardOutput.ReadToEndAsync()

    $clock = [Diagnostics.Stopwatch]::StartNew()
    $listening = $false
    while (-not $listening -and -not $process.HasExited -and $clock.ElapsedMilliseconds -lt 20000) {
        $client = [Net.Sockets.TcpClient]::new()
        try { $client.Connect($Address, $port); $listening = $true } catch { [Threading.Thread]::Sleep(10) } finally { $client.Dispose() }
    }
    if (-not $listening) {
        Stop-LoopbackSshd $process
        throw "sshd did not listen on ${Address}:$port within 20 s (a simulated host's fixtures write their output to $Directory/fixture-*.out)."
    }

    [pscustomobject]@{
        Process    = $process
        Address    = $Address
        Fixtures   = @(for ($i = 0; $i -lt $Fixture.Count; $i++) { Read-FixtureOutput ([IO.Path]::Combine($Directory, "fixture-$i.out")) })
        Connection = @{
            HostName = $Address; Port = $port; UserName = [Environment]::UserName; KeyFilePath = $UserKey
            Options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
        }
    }
}

# The first process of a simulated host: starts the fixtures, waits until each has said "ready", then becomes sshd.
# Their standard input is a FIFO they hold open for reading and writing, so it never ends: they live until the
# namespace does.
function Write-HostScript([string] $Directory, [string] $Sshd, [string] $Config, [object[]] $Fixture, [string] $ComputerName) {
    $quote = { param($text) "'" + ($text -replace "'", "'\''") + "'" }
    $lines = [Collections.Generic.List[string]]::new()
    $lines.Add('set -e')
    if ($ComputerName) { $lines.Add("hostname $(& $quote $ComputerName)") }
    $lines.Add("cd $(& $quote $Directory)")
    $lines.Add('mkfifo hold && exec 3<>hold')
    for ($i = 0; $i -lt $Fixture.Count; $i++) {
        $lines.Add((@($Fixture[$i] | ForEach-Object { & $quote $_ }) -join ' ') + " <&3 >fixture-$i.out 2>&1 &")
    }
    # Each fixture's output file appears when its process has started, not when the "&" line returns.
    $lines.Add('tries=0')
    $lines.Add("for out in $(@(for ($i = 0; $i -lt $Fixture.Count; $i++) { "fixture-$i.out" }) -join ' '); do")
    $lines.Add('    until grep -qsx ready "$out"; do tries=$((tries + 1)); [ $tries -lt 1000 ] || exit 1; sleep 0.01; done')
    $lines.Add('done')
    $lines.Add('exec 3>&-')
    $lines.Add("exec $(& $quote $Sshd) -D -e -f $(& $quote $Config)")
    $script = [IO.Path]::Combine($Directory, 'host.sh')
    [IO.File]::WriteAllLines($script, $lines)
    $script
}

function Read-FixtureOutput([string] $Path) {
    $values = @{}
    foreach ($line in [IO.File]::ReadAllLines($Path)) {
        if ($line -eq 'ready') { break }
        $name, $value = $line.Split(' ', 2)
        $values[$name] = [int] $value
    }
    $values
}

function Stop-LoopbackSshd([Diagnostics.Process] $Process) {
    if (-not $Process.HasExited) { $Process.Kill() }
    $Process.WaitForExit()
    $Process.Dispose()
}

Export-ModuleMember -Function Get-SimulatedHostObstacle, Get-FreeLoopbackPort, New-LoopbackUserKey, Start-LoopbackSshd, Stop-LoopbackSshd
