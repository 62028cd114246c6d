@{
    RootModule           = 'module/bin/EpollTools.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f6d2e-8a51-4c1e-9d3a-6f2b7e4c9a10'
    Author               = 'EpollTools contributors'
    CompanyName          = 'EpollTools'
    Copyright            = '(c) EpollTools contributors. MIT License.'
    Description          = 'See what any Linux process is waiting on (threads blocked in epoll_wait, poll or select; epoll interest lists from /proc, targets resolved, what is ready now, diagnoses of stuck waits, who watches a port or file, changes traced live), and create and drive epoll instances from PowerShell.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    # Checks that the clone is built and says how when it is not (before anything loads); EpollTools.Core.dll is
    # loaded by the module's initializer from beside EpollTools.dll.
    ScriptsToProcess     = @('module/Assert-EpollToolsBuilt.ps1')
    FormatsToProcess     = @('module/EpollTools.format.ps1xml')
    CmdletsToExport      = @(
        'New-EpollInstance'
        'Get-EpollInstance'
        'Close-EpollInstance'
        'Add-EpollFd'
        'Set-EpollFd'
        'Remove-EpollFd'
        'Wait-Epoll'
        'Wait-Select'
        'Wait-Poll'
        'New-EventFd'
        'New-TimerFd'
        'Set-TimerFd'
        'New-Pipe'
        'New-SocketPair'
        'Read-Fd'
        'Write-Fd'
        'Set-FdOption'
        'Close-Fd'
        'Get-EpollInterest'
        'Get-FdInfo'
        'Get-MultiplexerWait'
        'Trace-EpollInterest'
        'Measure-Multiplexer'
        'Show-MultiplexerChart'
        'Get-WaitChain'
        'Export-EpollMetric'
        'Measure-MultiplexerWait'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'epoll', 'poll', 'select', 'fd', 'eventfd', 'timerfd', 'debugging', 'proc', 'PSEdition_Core')
            # The license travels in the package (LICENSE, MIT); the project has no public URL yet for LicenseUri,
            # ProjectUri or an updatable-help HelpInfoURI (the help is in the package, en-US/).
            ReleaseNotes = @'
0.1.0: epoll instances, registrations with every flag, interruptible waits; eventfd, timerfd, pipe and socket pair
sources; Get-EpollInterest (targets resolved, stale registrations, -Readiness, diagnoses, -Target/-TargetPort),
Get-MultiplexerWait (threads blocked in epoll_wait, poll, select, arguments decoded), Trace-EpollInterest,
Get-FdInfo, Measure-Multiplexer and Show-MultiplexerChart.
'@
        }
    }
}
