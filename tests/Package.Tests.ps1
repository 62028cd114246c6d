# End-to-end: the module as a gallery user gets it. ./build.ps1 -Task Package makes the folder (the Test task makes
# it before running the tests); a fresh pwsh with its own HOME and a clean PSModulePath registers a local file
# repository, publishes the folder with Publish-PSResource, installs it with Install-PSResource, imports it by name
# and uses it.

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

    # A pwsh of its own: HOME (and so the CurrentUser module folder and PSResourceGet's repository list) in the
    # work directory, PSModulePath holding only that folder and pwsh's own modules.
    $script = @"
`$ErrorActionPreference = 'Stop'
`$env:PSModulePath = "`$HOME/.local/share/powershell/Modules" + [IO.Path]::PathSeparator + (Join-Path `$PSHOME 'Modules')
Register-PSResourceRepository -Name EpollToolsLocal -Uri '$workDir/repository' -Trusted
Publish-PSResource -Path '$packaged' -Repository EpollToolsLocal
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
'modules=' + ((Get-Module).Name -join ',')
Remove-Module EpollTools
'afterRemove=' + ((Get-Module).Name -join ',')
"@
    $null = [IO.Directory]::CreateDirectory([IO.Path]::Combine($workDir, 'repository'))
    $null = [IO.Directory]::CreateDirectory([IO.Path]::Combine($workDir, 'home'))
    $start = [Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($argument in [IO.Path]::Combine($PSHOME, 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-Command', $script) { $start.ArgumentList.Add($argument) }
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

    It 'publishes to a local repository, installs into a clean pwsh, imports by name and works there' {
        $stderr | Should -BeNullOrEmpty
        $exitCode | Should -Be 0
        @(Get-ChildItem ([IO.Path]::Combine($workDir, 'repository')) -Filter 'EpollTools.*.nupkg') | Should -HaveCount 1
        $values.base | Should -BeLike "$workDir/home/.local/share/powershell/Modules/EpollTools/*"
        $values.version | Should -Be (Import-PowerShellDataFile ([IO.Path]::Combine($root, 'EpollTools.psd1'))).ModuleVersion
        $values.interest | Should -Be 'IN|ET'
        $values.help | Should -Be 'Shows what processes are waiting on: their epoll interest lists from /proc, flags decoded and every target resolved.'
        $values.about | Should -Be 'True'
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
