<#
.SYNOPSIS
    Builds, tests and packages EpollTools.
.DESCRIPTION
    Tasks: Clean, Build, Test, Package. Uses only PowerShell's core cmdlets, .NET and the dotnet CLI, so it runs
    in pwsh and in the hosted engine alike:
        ./build.ps1 -Task Build, Test                                               # with pwsh
        dotnet run --project src/EpollTools.Host -- -NoModule -File build.ps1 Package   # without pwsh
.PARAMETER Task
    What to do, in order: Clean, Build, Test, Package.
.PARAMETER Configuration
    The dotnet build configuration.
.EXAMPLE
    ./build.ps1 -Task Clean, Build, Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Clean', 'Build', 'Test', 'Package')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$solution = [IO.Path]::Combine($root, 'EpollTools.sln')
$moduleBin = [IO.Path]::Combine($root, 'module', 'bin')
$outRoot = [IO.Path]::Combine($root, 'out')

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

function Invoke-Clean {
    foreach ($dir in @($moduleBin, $outRoot)) {
        if ([IO.Directory]::Exists($dir)) { [IO.Directory]::Delete($dir, $true) }
    }
    Invoke-Dotnet clean $solution --configuration $Configuration --verbosity quiet
}

function Invoke-Build {
    Invoke-Dotnet build $solution --configuration $Configuration
}

function Invoke-Test {
    # The suite as CI runs it: xunit unit tests and the *.Tests.ps1 files through the hosted engine.
    Invoke-Dotnet test $solution --configuration $Configuration --logger 'console;verbosity=normal'
    # Where pwsh has Pester 5, the same files run under it too.
    $pester = Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version.Major -ge 5 }
    if ($pester) {
        Import-Module $pester[0].Path
        $result = Invoke-Pester -Path ([IO.Path]::Combine($root, 'tests')) -PassThru -Output Detailed
        if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester tests failed." }
    }
    else {
        'Pester 5 is not installed here: the .Tests.ps1 files ran only through dotnet test.' | Out-Host
    }
}

function Invoke-Package {
    # A folder Publish-PSResource takes as it is: out/EpollTools with the manifest at its root and the same relative paths.
    Invoke-Build
    $manifest = Test-ModuleManifest -Path ([IO.Path]::Combine($root, 'EpollTools.psd1'))
    $target = [IO.Path]::Combine($outRoot, 'EpollTools')
    if ([IO.Directory]::Exists($target)) { [IO.Directory]::Delete($target, $true) }
    $files = @(
        'EpollTools.psd1', 'LICENSE', 'README.md',
        'module/EpollTools.format.ps1xml',
        'module/bin/EpollTools.dll', 'module/bin/EpollTools.Core.dll',
        'en-US/EpollTools.dll-Help.xml'
    )
    foreach ($relative in $files) {
        $source = [IO.Path]::Combine($root, $relative)
        if (-not [IO.File]::Exists($source)) { throw "Package: $relative is missing; did the build run?" }
        $destination = [IO.Path]::Combine($target, $relative)
        [void] [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($destination))
        [IO.File]::Copy($source, $destination, $true)
    }
    "Packaged EpollTools $($manifest.Version) in $target" | Out-Host
}

foreach ($step in $Task) {
    "== $step" | Out-Host
    switch ($step) {
        'Clean' { Invoke-Clean }
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Package' { Invoke-Package }
    }
}
