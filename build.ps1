<#
.SYNOPSIS
    Builds, tests and packages EpollTools.
.DESCRIPTION
    Tasks: Clean, Build, Test, Package. Run it with the pwsh this repository pins (dotnet-tools.json):
        dotnet tool restore
        dotnet pwsh -NoProfile -File ./build.ps1 -Task Test
    Test builds first, runs the xunit unit tests and then tests/*.Tests.ps1 under the pinned Pester, writes the
    result files to out/TestResults (unit.trx, pester.xml in NUnit 2.5 form), and ends with one line for the whole
    run: "N passed, N failed, N skipped". It fails when any test, discovery, file or teardown fails, or when no
    Pester test is found.
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
    Invoke-Build
    # tests/Package.Tests.ps1 publishes and installs the packaged folder: made here, from this build.
    Invoke-Package -NoBuild
    $results = [IO.Path]::Combine($outRoot, 'TestResults')
    if ([IO.Directory]::Exists($results)) { [IO.Directory]::Delete($results, $true) }

    & dotnet test $solution --no-build --configuration $Configuration --results-directory $results --logger 'trx;LogFileName=unit.trx' --logger 'console;verbosity=normal'
    $unit = Read-TrxCounts ([IO.Path]::Combine($results, 'unit.trx'))

    Import-Module (Get-PesterManifest) -Force
    $config = New-PesterConfiguration
    $config.Run.Path = [IO.Path]::Combine($root, 'tests')
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    # CI logs and redirected output get plain text, not ANSI colour codes.
    $config.Output.RenderMode = if ([Console]::IsOutputRedirected) { 'Plaintext' } else { 'Auto' }
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'NUnitXml'
    $config.TestResult.OutputPath = [IO.Path]::Combine($results, 'pester.xml')
    $pester = Invoke-Pester -Configuration $config

    # A container (file) that fails to parse, to be discovered, or in a top-level BeforeAll/AfterAll (the fd-leak
    # check) and a block whose setup failed count as failures of their own.
    $failedFrames = $pester.FailedContainersCount + $pester.FailedBlocksCount
    $passed = $unit.Passed + $pester.PassedCount
    $failed = $unit.Failed + $pester.FailedCount + $failedFrames
    $skipped = $unit.Skipped + $pester.SkippedCount + $pester.NotRunCount
    if ($pester.TotalCount -eq 0) {
        'No Pester test was found under tests/: that is a failure, not a pass.' | Out-Host
        $failed++
    }
    if ($unit.Total -eq 0) {
        'No unit test ran (see the dotnet test output above).' | Out-Host
        $failed++
    }
    "Unit tests: $($unit.Passed) passed, $($unit.Failed) failed, $($unit.Skipped) skipped. Pester: $($pester.PassedCount) passed, $($pester.FailedCount) failed, $($pester.SkippedCount + $pester.NotRunCount) skipped or not run, $failedFrames files or blocks failed." | Out-Host
    "$passed passed, $failed failed, $skipped skipped" | Out-Host
    if ($failed -gt 0) { exit 1 }
}

# The counters of a .trx file (the xunit run); zeros when it is missing, as when the build of the tests failed.
function Read-TrxCounts([string] $Path) {
    if (-not [IO.File]::Exists($Path)) {
        return [pscustomobject]@{ Total = 0; Passed = 0; Failed = 0; Skipped = 0 }
    }
    $counters = ([xml] [IO.File]::ReadAllText($Path)).TestRun.ResultSummary.Counters
    [pscustomobject]@{
        Total   = [int] $counters.total
        Passed  = [int] $counters.passed
        Failed  = [int] $counters.failed + [int] $counters.error + [int] $counters.timeout + [int] $counters.aborted
        Skipped = [int] $counters.notExecuted
    }
}

# Pester as pinned in tests/EpollTools.Tests (PackageDownload), from the NuGet packages folder the build restored it
# to: never whatever Pester happens to be on PSModulePath.
function Get-PesterManifest {
    $project = [xml] [IO.File]::ReadAllText([IO.Path]::Combine($root, 'tests', 'EpollTools.Tests', 'EpollTools.Tests.csproj'))
    $version = @($project.Project.ItemGroup.PackageDownload | Where-Object Include -eq 'Pester')[0].Version.Trim('[', ']')
    $packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $manifest = [IO.Path]::Combine($packages.Trim(), 'pester', $version, 'tools', 'Pester.psd1')
    if (-not [IO.File]::Exists($manifest)) { throw "Pester $version is not restored at $manifest; run a build first (dotnet build EpollTools.sln restores it)." }
    $manifest
}

function Invoke-Package([switch] $NoBuild) {
    # A folder Publish-PSResource takes as it is: out/EpollTools with the manifest at its root and the same relative paths.
    if (-not $NoBuild) { Invoke-Build }
    $manifest = Test-ModuleManifest -Path ([IO.Path]::Combine($root, 'EpollTools.psd1'))
    $target = [IO.Path]::Combine($outRoot, 'EpollTools')
    if ([IO.Directory]::Exists($target)) { [IO.Directory]::Delete($target, $true) }
    # The README and the help point at docs/ and examples/: they ship too, so that every link resolves where the
    # module is installed.
    $shipped = foreach ($folder in 'docs', 'examples') {
        Get-ChildItem -Path ([IO.Path]::Combine($root, $folder)) -File -Recurse |
            ForEach-Object { [IO.Path]::GetRelativePath($root, $_.FullName) }
    }
    $files = @(
        'LICENSE', 'README.md',
        'module/EpollTools.format.ps1xml',
        'module/bin/EpollTools.dll', 'module/bin/EpollTools.Core.dll',
        'en-US/EpollTools.dll-Help.xml', 'en-US/about_EpollTools.help.txt'
    ) + $shipped
    foreach ($relative in $files) {
        $source = [IO.Path]::Combine($root, $relative)
        if (-not [IO.File]::Exists($source)) { throw "Package: $relative is missing; did the build run?" }
        $destination = [IO.Path]::Combine($target, $relative)
        [void] [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($destination))
        [IO.File]::Copy($source, $destination, $true)
    }

    # A package is always built: the clone's check that module/bin exists (ScriptsToProcess, which would also show
    # as a module of its own in Get-Module and outlive Remove-Module) is left out of its manifest.
    $manifestText = [IO.File]::ReadAllText([IO.Path]::Combine($root, 'EpollTools.psd1'))
    $withoutCheck = [regex]::Replace($manifestText, "(?m)^\s*ScriptsToProcess\s*=.*\r?\n", '')
    if ($withoutCheck -eq $manifestText) { throw 'Package: the manifest has no ScriptsToProcess line to leave out; update Invoke-Package.' }
    [IO.File]::WriteAllText([IO.Path]::Combine($target, 'EpollTools.psd1'), $withoutCheck)
    $null = Test-ModuleManifest -Path ([IO.Path]::Combine($target, 'EpollTools.psd1'))
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
