# End-to-end: the module as a host without the .NET SDK gets it. ./build.ps1 -Task Package makes the folder (the
# Test task makes it before running the tests), which is copied out of the build tree as an artifact would be; a fresh
# pwsh with its own HOME and a clean PSModulePath, in a mount namespace where the build tree and the SDK are hidden
# (empty tmpfs mounted over them), registers a local file repository, publishes the folder with Publish-PSResource,
# installs it with Install-PSResource, imports it by name and uses every cmdlet family there.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
    $root = [IO.Path]::GetFullPath([IO.Path]::Combine($PSScriptRoot, '..'))
    $workDir = New-WorkDirectory

    # ./build.ps1 -Task Test packages the build it tests before the tests run (a second build here would rewrite the
    # assemblies this process has loaded).
    $packaged = [IO.Path]::Combine($root, 'out', 'EpollTools')
    if (-not [IO.File]::Exists([IO.Path]::Combine($packaged, 'EpollTools.psd1'))) {
        throw "No package at ${packaged}: run ./build.ps1 -Task Package (the Test task does it)."
    }

    # The artifact, out of the build tree.
    $artifact = [IO.Path]::Combine($workDir, 'EpollTools')
    Copy-Item -Path $packaged -Destination $artifact -Recurse
    # The SDK beside the dotnet host that runs this pwsh (pwsh itself needs only the runtime).
    $sdk = [IO.Path]::Combine([IO.Path]::GetDirectoryName([Environment]::ProcessPath), 'sdk')

    # A pwsh of its own: HOME (and so the CurrentUser module folder and PSResourceGet's repository list) in the
    # work directory, PSModulePath holding only that folder and pwsh's own modules.
    $script = @"
`$ErrorActionPreference = 'Stop'
`$env:PSModulePath = "`$HOME/.local/share/powershell/Modules" + [IO.Path]::PathSeparator + (Join-Path `$PSHOME 'Modules')
'treeHidden=' + (-not (Test-Path '$root/src')) + ',' + (-not (Test-Path '$packaged'))
'sdks=' + (@(Get-ChildItem '$sdk' -ErrorAction SilentlyContinue).Count)
Register-PSResourceRepository -Name EpollToolsLocal -Uri '$workDir/repository' -Trusted
Publish-PSResource -Path '$artifact' -Repository EpollToolsLocal
Install-PSResource -Name EpollTools -Repository EpollToolsLocal -Scope CurrentUser -TrustRepository
Import-Module EpollTools
'base=' + (Get-Module EpollTools).ModuleBase
'version=' + (Get-Module EpollTools).Version
`$ep = New-EpollInstance
`$efd = New-EventFd
Add-EpollFd -Instance `$ep -Fd `$efd -Events In, ET
'interest=' + (Get-EpollInterest -EpollFd `$ep.Fd).RequestedFlags
Close-EpollInstance `$ep; Close-Fd `$efd
'help=' + (Get-Help Get-EpollInterest).Synopsis
'about=' + ((Get-Help about_EpollTools | Out-String) -match 'level-triggered')
'noHelp=' + ((Get-Command -Module EpollTools | Where-Object { -not (Get-Help `$_.Name).Description }).Name -join ',')
'waits=' + @(Get-MultiplexerWait -Id `$PID | Where-Object WaitsOn).Count
'metric=' + @((Export-EpollMetric -Id `$PID) -split "``n" | Where-Object { `$_ -like 'epolltools_scan_duration_seconds *' }).Count
'chainRuns=' + (`$null -eq (Get-WaitChain -Id `$PID -ErrorAction Stop | Select-Object -First 0))
'modules=' + ((Get-Module).Name -join ',')
Remove-Module EpollTools
'afterRemove=' + ((Get-Module).Name -join ',')
"@
    $null = [IO.Directory]::CreateDirectory([IO.Path]::Combine($workDir, 'repository'))
    $null = [IO.Directory]::CreateDirectory([IO.Path]::Combine($workDir, 'home'))
    # unshare's mount namespace is private: the tmpfs mounts are seen by this pwsh alone, and end with it.
    $hide = 'mount -t tmpfs none "$1" && mount -t tmpfs none "$2" && shift 2 && exec "$@"'
    $start = [Diagnostics.ProcessStartInfo]::new('/usr/bin/unshare')
    foreach ($argument in '--mount', '/bin/sh', '-c', $hide, 'hide', $root, $sdk, [Environment]::ProcessPath, [IO.Path]::Combine($PSHOME, 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command', $script) {
        $start.ArgumentList.Add($argument)
    }
    $start.Environment['HOME'] = [IO.Path]::Combine($workDir, 'home')
    $start.Environment['DOTNET_CLI_HOME'] = [IO.Path]::Combine($workDir, 'home')
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($start)
    $errorText = $process.StandardError.ReadToEndAsync()
    $lines = @($process.StandardOutput.ReadToEnd() -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
    $process.WaitForExit()
    $exitCode = $process.ExitCode
    $stderr = $errorText.Result
    $process.Dispose()
    $values = @{}
    foreach ($line in $lines) { if ($line -match '^(\w+)=(.*)$') { $values[$Matches[1]] = $Matches[2] } }
}

AfterAll {
    try { [IO.Directory]::Delete($workDir, $true) }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe './build.ps1 -Task Package, published and installed with PSResourceGet' {
    It 'packages a module folder with the manifest, the assemblies, the format views and the help' {
        foreach ($file in 'EpollTools.psd1', 'LICENSE', 'module/EpollTools.format.ps1xml', 'module/bin/EpollTools.dll', 'module/bin/EpollTools.Core.dll', 'en-US/EpollTools.dll-Help.xml', 'en-US/about_EpollTools.help.txt') {
            [IO.File]::Exists([IO.Path]::Combine($packaged, $file)) | Should -BeTrue -Because "the package needs $file"
        }
    }

    It 'ships every file the packaged README points at (docs/, examples/)' {
        $readme = [IO.File]::ReadAllText([IO.Path]::Combine($packaged, 'README.md'))
        # Markdown links and code spans that name a file under docs/ or examples/.
        $named = @([regex]::Matches($readme, '(?<![\w/.])((?:docs|examples)/[\w./-]+\.(?:md|ps1|c))') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique)
        $named.Count | Should -BeGreaterThan 5
        foreach ($file in $named) {
            [IO.File]::Exists([IO.Path]::Combine($packaged, $file)) | Should -BeTrue -Because "README.md points at $file"
        }
        # The help's pages are the docs' own: the ones the help names ship too.
        foreach ($page in 'docs/about_EpollTools.md', 'docs/debugging-a-stuck-process.md', 'docs/cmdlets/Get-EpollInterest.md') {
            [IO.File]::Exists([IO.Path]::Combine($packaged, $page)) | Should -BeTrue
        }
    }

    It 'imports as one module, and Remove-Module leaves nothing of it behind' {
        $manifest = Import-PowerShellDataFile ([IO.Path]::Combine($packaged, 'EpollTools.psd1'))
        $manifest.ContainsKey('ScriptsToProcess') | Should -BeFalse -Because 'a package is built: the clone''s build check would show as a module of its own'
        @($values.modules -split ',') | Should -Contain 'EpollTools'
        @($values.modules -split ',') | Should -Not -Contain 'Assert-EpollToolsBuilt'
        @($values.afterRemove -split ',') | Should -Not -Contain 'EpollTools'
        @($values.afterRemove -split ',') | Should -Not -Contain 'Assert-EpollToolsBuilt'
    }

    It 'publishes to a local repository, installs into a clean pwsh without the SDK or the build tree, imports by name and works there' {
        $stderr | Should -BeNullOrEmpty
        $exitCode | Should -Be 0
        $values.treeHidden | Should -Be 'True,True'
        $values.sdks | Should -Be 0
        @(Get-ChildItem ([IO.Path]::Combine($workDir, 'repository')) -Filter 'EpollTools.*.nupkg') | Should -HaveCount 1
        $values.base | Should -BeLike "$workDir/home/.local/share/powershell/Modules/EpollTools/*"
        $values.version | Should -Be (Import-PowerShellDataFile ([IO.Path]::Combine($root, 'EpollTools.psd1'))).ModuleVersion
        $values.interest | Should -Be 'IN|ET'
        $values.help | Should -Be 'Shows what processes are waiting on: their epoll interest lists from /proc, flags decoded and every target resolved.'
        $values.about | Should -Be 'True'
    }

    It 'has every cmdlet working there, each with its help' {
        $values.noHelp | Should -BeNullOrEmpty
        [int] $values.waits | Should -BeGreaterThan 0 -Because 'that pwsh waits in epoll_wait'
        $values.metric | Should -Be 1
        $values.chainRuns | Should -Be 'True'
    }

    It 'has what the gallery shows in its manifest' {
        $manifest = Import-PowerShellDataFile ([IO.Path]::Combine($packaged, 'EpollTools.psd1'))
        $manifest.Description | Should -Match 'epoll'
        $manifest.PrivateData.PSData.Tags | Should -Contain 'epoll'
        $manifest.PrivateData.PSData.Tags | Should -Contain 'PSEdition_Core'
        $manifest.PrivateData.PSData.ReleaseNotes | Should -Match "^$([regex]::Escape($manifest.ModuleVersion)):"
        $manifest.CompatiblePSEditions | Should -Be 'Core'
    }
}
