# End-to-end: the module as a user meets it, in a fresh pwsh (a child process): importing a clone that was never
# built.

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
    $repoRoot = [IO.Path]::GetDirectoryName($PSScriptRoot)
    $pwshDll = [IO.Path]::Combine($PSHOME, 'pwsh.dll')

    # Runs a command in a fresh pwsh and returns its output and error lines as text.
    function Invoke-FreshPwsh([string] $Command) {
        & dotnet $pwshDll -NoProfile -NonInteractive -Command $Command 2>&1 | ForEach-Object { "$_" }
    }
}

AfterAll { Assert-NoFdLeak $fdBaseline }

Describe 'Importing a clone that was never built' {
    BeforeAll {
        # What a fresh clone has: the manifest and module/ without bin.
        $clone = [IO.Path]::Combine([IO.Path]::GetTempPath(), 'epolltools-unbuilt-' + [Guid]::NewGuid().ToString('N'))
        $null = [IO.Directory]::CreateDirectory([IO.Path]::Combine($clone, 'module'))
        Copy-Item ([IO.Path]::Combine($repoRoot, 'EpollTools.psd1')) $clone
        Copy-Item ([IO.Path]::Combine($repoRoot, 'module', '*.ps1*')) ([IO.Path]::Combine($clone, 'module'))
        $manifest = [IO.Path]::Combine($clone, 'EpollTools.psd1')
        $lines = Invoke-FreshPwsh @"
try { Import-Module '$manifest' -ErrorAction Stop; 'IMPORTED' }
catch { 'ID=' + `$_.FullyQualifiedErrorId; 'CATEGORY=' + `$_.CategoryInfo.Category; 'MESSAGE=' + `$_.Exception.Message; 'ACTION=' + `$_.ErrorDetails.RecommendedAction }
'MODULES=' + ((Get-Module).Name -join ',')
"@
    }

    AfterAll { [IO.Directory]::Delete($clone, $true) }

    It 'says the module is not built and how to build it, not a bare assembly-load error' {
        $lines | Should -Not -Contain 'IMPORTED'
        $lines | Should -Contain 'ID=EpollToolsNotBuilt,Microsoft.PowerShell.Commands.ImportModuleCommand'
        $lines | Should -Contain 'CATEGORY=NotInstalled'
        $message = $lines | Where-Object { $_ -like 'MESSAGE=*' }
        $message | Should -Match 'EpollTools is not built: .*module/bin/EpollTools\.dll does not exist\. Build it first'
        $message | Should -Match 'dotnet tool restore; dotnet pwsh -NoProfile -File \./build\.ps1'
        $lines | Where-Object { $_ -like 'ACTION=*' } | Should -Match 'build\.ps1'
        ($lines -join "`n") | Should -Not -Match 'Could not load file or assembly'
    }

    It 'leaves no half-imported EpollTools behind' {
        $lines | Where-Object { $_ -like 'MODULES=*' } | Should -Not -Match '(^|=|,)EpollTools(,|$)'
    }
}

Describe 'Importing the built module' {
    It 'loads EpollTools.Core with it, so its types resolve before any cmdlet ran' {
        $lines = Invoke-FreshPwsh "Import-Module '$([IO.Path]::Combine($repoRoot, 'EpollTools.psd1'))'; [EpollTools.Core.Proc.RegistrationState]::Stale.ToString()"
        $lines | Should -Be @('Stale')
    }
}

Describe 'The views'' text shaping (EpollTools.ViewText)' {
    It 'wraps at spaces, never inside a word, and indents what continues a line' {
        [EpollTools.ViewText]::Wrap(@('epoll fd 15 (1234 registered)', '! held by gdb (4148)'), 20) |
            Should -Be "epoll fd 15 (1234`n  registered)`n! held by gdb (4148)"
    }

    It 'keeps the lines it is given, and cuts a word longer than a line with an ellipsis' {
        [EpollTools.ViewText]::Wrap(@("a`nb", ('x' * 12)), 8) | Should -Be "a`nb`nxxxxxxx$([char] 0x2026)"
        [EpollTools.ViewText]::Fit('clock_nanosleep', 12) | Should -Be "clock_nanos$([char] 0x2026)"
        [EpollTools.ViewText]::Fit('poll', 12) | Should -Be 'poll'
    }
}
