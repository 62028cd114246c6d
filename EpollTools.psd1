@{
    RootModule           = 'module/bin/EpollTools.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f6d2e-8a51-4c1e-9d3a-6f2b7e4c9a10'
    Author               = 'EpollTools contributors'
    CompanyName          = 'EpollTools'
    Copyright            = '(c) EpollTools contributors. MIT License.'
    Description          = 'Create and drive Linux epoll instances live from PowerShell, and see what fds are waited on.'
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
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'epoll', 'fd', 'eventfd', 'timerfd', 'debugging')
        }
    }
}
