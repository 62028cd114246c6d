# EpollTools quick start: one epoll instance watching a pipe, an eventfd and a timerfd; real events from the kernel.
# Run it (after a build: dotnet pwsh -NoProfile -File ./build.ps1):
#   dotnet pwsh -NoProfile -File examples/quickstart.ps1

Import-Module (Join-Path $PSScriptRoot '..' 'EpollTools.psd1')

function Show([string] $Title, $Value) {
    "`n== $Title" | Out-Host
    $Value | Out-Host
}

$ep    = New-EpollInstance
$pipe  = New-Pipe -NonBlocking
$efd   = New-EventFd
$timer = New-TimerFd

try {
    # Level-triggered IN on the pipe, edge-triggered IN on the eventfd, one-shot IN on the timer.
    $ep | Add-EpollFd -Fd $pipe.ReadEnd -Events In -PassThru |
        Add-EpollFd -Fd $efd -Events In, ET -PassThru |
        Add-EpollFd -Fd $timer -Events In, OneShot
    Show 'The instance and what it watches' $ep
    Show 'Its registrations' $ep.Registrations

    Show 'Wait-Epoll -Timeout 0 before anything happened: no events' (Wait-Epoll $ep -Timeout 0)

    Write-Fd $pipe -Text 'hello, epoll'
    Write-Fd $efd -Value 3
    Show 'After writing to the pipe and to the eventfd' (Wait-Epoll $ep -Timeout 1000)

    Show 'Again: the pipe still has data (level-triggered); the eventfd is edge-triggered, so it is quiet' (Wait-Epoll $ep -Timeout 100)

    Show 'Reading the pipe empties it' (Read-Fd $pipe)

    Set-TimerFd $timer -After ([TimeSpan]::FromMilliseconds(200))
    Show 'Waiting up to 2 s: the timer expires after 200 ms' (Wait-Epoll $ep -Timeout ([TimeSpan]::FromSeconds(2)))
    Show 'Its read returns the expiration count' (Read-Fd $timer)

    Set-TimerFd $timer -After ([TimeSpan]::FromMilliseconds(50))
    Show 'Armed again, but the one-shot registration fired once already: nothing (timeout 300 ms)' (Wait-Epoll $ep -Timeout 300)

    Show 'The kernel''s own view, /proc/self/fdinfo of the epoll fd: the one-shot entry reads back disarmed (40000000)' ([IO.File]::ReadAllText("/proc/self/fdinfo/$($ep.Fd)"))

    $ep | Set-EpollFd -Fd $timer -Events In, OneShot
    Show 'Set-EpollFd re-arms it, and the expired timer is reported at once' (Wait-Epoll $ep -Timeout 0)

    $eagain = try { Read-Fd $pipe -ErrorAction Stop } catch { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }
    Show 'Reading the empty non-blocking pipe fails with EAGAIN rather than waiting' $eagain
}
finally {
    Close-EpollInstance $ep
    Close-Fd $pipe, $efd, $timer
}
