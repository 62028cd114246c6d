# Run by Import-Module before the assemblies load (ScriptsToProcess): a clone that was never built has no module/bin,
# and the bare "Could not load file or assembly" that would follow says nothing about what to do.
$assembly = [IO.Path]::Combine($PSScriptRoot, 'bin', 'EpollTools.dll')
if (-not [IO.File]::Exists($assembly)) {
    $root = [IO.Path]::GetDirectoryName($PSScriptRoot)
    $exception = [IO.FileNotFoundException]::new(
        "EpollTools is not built: $assembly does not exist. Build it first, from $root with the .NET SDK: " +
        "dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 (then import EpollTools.psd1 again).", $assembly)
    $record = [Management.Automation.ErrorRecord]::new($exception, 'EpollToolsNotBuilt', 'NotInstalled', $assembly)
    $record.ErrorDetails = [Management.Automation.ErrorDetails]::new($exception.Message)
    $record.ErrorDetails.RecommendedAction = 'Run ./build.ps1 in the repository root, or install the packaged module (./build.ps1 -Task Package).'
    throw $record
}
