# What is a process waiting on? Get-MultiplexerWait shows which threads are blocked in epoll_wait, poll or select
# and on what; Get-EpollInterest reads /proc/<pid>/fdinfo and resolves every registration.
# Run it (after a build: dotnet pwsh -NoProfile -File ./build.ps1):
#   dotnet pwsh -NoProfile -File examples/interest.ps1            # this process
#   dotnet pwsh -NoProfile -File examples/interest.ps1 1234       # process 1234
param([int[]] $Id)

Import-Module (Join-Path $PSScriptRoot '..' 'EpollTools.psd1')

if ($Id) {
    Get-MultiplexerWait -Id $Id | Out-Host
    Get-EpollInterest -Id $Id | Out-Host
    return
}

# With no pid: give this process something to wait on, then look at it from /proc like any other process.
$listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
$listener.Start()
$client = [System.Net.Sockets.TcpClient]::new()
$accept = $listener.AcceptTcpClientAsync()
$client.ConnectAsync([System.Net.IPAddress]::Loopback, $listener.LocalEndpoint.Port).Wait()
$server = $accept.Result
$pendingRead = $client.GetStream().ReadAsync([byte[]]::new(16), 0, 16)

$ep = New-EpollInstance
$pipe = New-Pipe
$timer = New-TimerFd -After ([TimeSpan]::FromMinutes(5)) -Interval ([TimeSpan]::FromSeconds(30))
$efd = New-EventFd -InitialValue 3
$ep | Add-EpollFd -Fd $pipe.ReadEnd -Events In -PassThru |
    Add-EpollFd -Fd $timer -Events In, OneShot -PassThru |
    Add-EpollFd -Fd $efd -Events In, ET

try {
    "Process $([Environment]::ProcessId): the threads blocked in a multiplexing wait (the .NET socket engine in epoll_wait):" | Out-Host
    Get-MultiplexerWait | Out-Host
    "Its epoll instances: the socket engine's (edge-triggered sockets) and the one made here:" | Out-Host
    Get-EpollInterest | Out-Host
}
finally {
    Close-EpollInstance $ep
    Close-Fd $pipe, $timer, $efd
    $client.Dispose(); $server.Dispose(); $listener.Stop()
}
