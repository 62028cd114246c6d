<#
.SYNOPSIS
    An sshd of one's own on 127.0.0.1, for PowerShell remoting over SSH without touching the host's: a throwaway host
    key and user key in -Directory, a free loopback port, and this pwsh as the "powershell" subsystem. Used by
    tests/Remoting.Tests.ps1 and bench/fleet-loopback.ps1. Needs root and Debian's openssh-server (/usr/sbin/sshd).
#>

<#
.SYNOPSIS
    Starts the sshd and waits until it listens. Returns Process (stop it with Stop-LoopbackSshd) and Connection (the
    splat for New-PSSession: host, port, user, key and the options that skip host-key checks for a throwaway key).
#>
function Start-LoopbackSshd([string] $Directory, [string] $Sshd = '/usr/sbin/sshd') {
    foreach ($key in 'host_key', 'user_key') { & ssh-keygen -q -t ed25519 -N '' -f ([IO.Path]::Combine($Directory, $key)) }
    Copy-Item ([IO.Path]::Combine($Directory, 'user_key.pub')) ([IO.Path]::Combine($Directory, 'authorized_keys'))

    # A free port on loopback: the kernel picks it, and sshd takes it right after.
    $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()

    $config = [IO.Path]::Combine($Directory, 'sshd_config')
    [IO.File]::WriteAllLines($config, [string[]] @(
            "Port $port", 'ListenAddress 127.0.0.1',
            "HostKey $Directory/host_key", "PidFile $Directory/sshd.pid", "AuthorizedKeysFile $Directory/authorized_keys",
            'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
            'UsePAM no', 'StrictModes no',
            "Subsystem powershell $((Get-Command dotnet).Source) $([IO.Path]::Combine($PSHOME, 'pwsh.dll')) -sshs -NoLogo -NoProfile"))
    $null = [IO.Directory]::CreateDirectory('/run/sshd')   # sshd's privilege separation directory
    $start = [Diagnostics.ProcessStartInfo]::new($Sshd)
    foreach ($argument in '-D', '-e', '-f', $config) { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($start)
    $null = $process.StandardError.ReadToEndAsync()   # drained, so that its log (-e) never fills the pipe

    $clock = [Diagnostics.Stopwatch]::StartNew()
    $listening = $false
    while (-not $listening -and $clock.ElapsedMilliseconds -lt 10000) {
        $client = [Net.Sockets.TcpClient]::new()
        try { $client.Connect('127.0.0.1', $port); $listening = $true } catch { [Threading.Thread]::Sleep(10) } finally { $client.Dispose() }
    }
    if (-not $listening) {
        Stop-LoopbackSshd $process
        throw "sshd did not listen on 127.0.0.1:$port within 10 s."
    }

    [pscustomobject]@{
        Process    = $process
        Connection = @{
            HostName = '127.0.0.1'; Port = $port; UserName = [Environment]::UserName
            KeyFilePath = [IO.Path]::Combine($Directory, 'user_key')
            Options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
        }
    }
}

function Stop-LoopbackSshd([Diagnostics.Process] $Process) {
    $Process.Kill()
    $Process.WaitForExit()
    $Process.Dispose()
}

Export-ModuleMember -Function Start-LoopbackSshd, Stop-LoopbackSshd
