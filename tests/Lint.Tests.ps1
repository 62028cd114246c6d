# The PSScriptAnalyzer rules that matter here, checked with pwsh's own metadata (PSScriptAnalyzer is not on the
# package mirror): approved verbs, ShouldProcess on the cmdlets that change or destroy something, [OutputType] on
# every cmdlet, singular nouns, and no aliases in the project's scripts.

BeforeDiscovery {
    $root = [IO.Path]::GetFullPath([IO.Path]::Combine($PSScriptRoot, '..'))
    $scripts = @(Get-ChildItem -LiteralPath $root -Recurse -File -Include '*.ps1', '*.psm1' |
            Where-Object { $_.FullName -notmatch '[\\/](bin|obj|out)[\\/]' } |
            ForEach-Object { @{ Path = $_.FullName; Name = [IO.Path]::GetRelativePath($root, $_.FullName) } })
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
    $cmdlets = @(Get-Command -Module EpollTools -CommandType Cmdlet)
    $approved = @(Get-Verb | ForEach-Object Verb)
}

AfterAll { Assert-NoFdLeak $fdBaseline }

Describe 'The cmdlets' {
    It 'all use approved verbs (Get-Verb)' {
        $cmdlets.Count | Should -BeGreaterThan 20
        $cmdlets | Where-Object { $_.Verb -notin $approved } | ForEach-Object Name | Should -BeNullOrEmpty
    }

    It 'all support -WhatIf and -Confirm where they change or destroy something (Set, Remove, Close)' {
        $mutators = @($cmdlets | Where-Object Verb -in 'Set', 'Remove', 'Close', 'Clear', 'Reset', 'Stop')
        $mutators.Count | Should -BeGreaterThan 5
        $mutators | Where-Object { -not ($_.Parameters.ContainsKey('WhatIf') -and $_.Parameters.ContainsKey('Confirm')) } | ForEach-Object Name | Should -BeNullOrEmpty
    }

    It 'all declare what they output ([OutputType])' {
        $cmdlets | Where-Object { $_.OutputType.Count -eq 0 } | ForEach-Object Name | Should -BeNullOrEmpty
    }

    It 'all have singular nouns' {
        $cmdlets | Where-Object { $_.Noun -match '(?<!s)s$' } | ForEach-Object Name | Should -BeNullOrEmpty
    }

    It 'all bind -Id by property name where they read other processes, as Get-Process objects pipe in' {
        foreach ($name in 'Get-EpollInterest', 'Get-MultiplexerWait', 'Trace-EpollInterest', 'Get-FdInfo') {
            $id = (Get-Command $name).Parameters['Id']
            $id.Aliases | Should -Contain 'ProcessId' -Because $name
            @($id.ParameterSets.Values.ValueFromPipelineByPropertyName) | Should -Contain $true -Because $name
        }
    }
}

Describe 'The scripts' {
    It '<Name> uses no aliases' -ForEach $scripts {
        $tokens = $null; $errors = $null
        $ast = [Management.Automation.Language.Parser]::ParseFile($Path, [ref] $tokens, [ref] $errors)
        $errors | Should -BeNullOrEmpty
        $aliases = @($ast.FindAll({ param($node) $node -is [Management.Automation.Language.CommandAst] }, $true) |
                ForEach-Object { $_.GetCommandName() } | Where-Object { $_ -and (Get-Alias -Name $_ -ErrorAction Ignore) })
        $aliases | Should -BeNullOrEmpty
    }
}
