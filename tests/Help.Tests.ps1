# End-to-end: every exported cmdlet has real help (from docs/cmdlets through the MAML file), and its examples run.

BeforeDiscovery {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $cmdlets = @((Get-Command -Module EpollTools -CommandType Cmdlet).Name | ForEach-Object { @{ Name = $_ } })
    $examples = @(foreach ($c in $cmdlets) {
            $i = 0
            foreach ($example in (Get-Help $c.Name).examples.example) {
                $i++
                # "Prints `5`." (or "Prints `abc`, then `def`.") under an example: what it must print, in order.
                $remarks = (@($example.remarks) | ForEach-Object Text) -join "`n"
                $promised = if ($remarks -match '(?m)^Prints (?<what>.*)$') { @([regex]::Matches($Matches.what, '`([^`]+)`') | ForEach-Object { $_.Groups[1].Value }) } else { @() }
                @{ Name = $c.Name; Number = $i; Code = [string] $example.code; Promised = $promised }
            }
        })
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    $fdBaseline = Get-ModuleKindFd
    $commonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

AfterAll {
    Assert-NoFdLeak $fdBaseline
}

Describe 'about_EpollTools' {
    It 'is found by Get-Help, from the concepts page' {
        $help = Get-Help about_EpollTools
        "$help" | Should -Match 'level-triggered'
        "$help" | Should -Match 'edge-triggered'
    }
}

Describe 'The module manifest' {
    It 'is valid and exports exactly the cmdlets the assembly defines' {
        $manifest = Test-ModuleManifest -Path ([IO.Path]::Combine($PSScriptRoot, '..', 'EpollTools.psd1'))
        $manifest.Version | Should -Be ([version] '0.1.0')
        $module = Get-Module EpollTools
        $defined = @([EpollTools.Commands.NewEpollInstanceCommand].Assembly.GetTypes() |
                Where-Object { $_.IsSubclassOf([System.Management.Automation.Cmdlet]) -and -not $_.IsAbstract } |
                ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; '{0}-{1}' -f $a.VerbName, $a.NounName })
        @($module.ExportedCmdlets.Keys).Count | Should -Be $defined.Count
        foreach ($name in $defined) { $module.ExportedCmdlets.Keys | Should -Contain $name }
    }

    It 'uses only approved verbs' {
        $approved = [System.Management.Automation.VerbsCommon].GetFields().Name + [System.Management.Automation.VerbsCommunications].GetFields().Name +
            [System.Management.Automation.VerbsLifecycle].GetFields().Name + [System.Management.Automation.VerbsData].GetFields().Name +
            [System.Management.Automation.VerbsDiagnostic].GetFields().Name + [System.Management.Automation.VerbsSecurity].GetFields().Name + [System.Management.Automation.VerbsOther].GetFields().Name
        foreach ($command in Get-Command -Module EpollTools) { $approved | Should -Contain $command.Verb }
    }
}

Describe 'Get-Help <Name>' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
    }

    It 'has a synopsis from the docs, not the generated one' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match ([regex]::Escape($Name) + ' \[')
    }

    It 'has a description' {
        ($help.description.Text -join ' ').Length | Should -BeGreaterThan 40
    }

    It 'documents every parameter, and no other' {
        $actual = @($command.Parameters.Keys | Where-Object { $commonParameters -notcontains $_ })
        $documented = @($help.parameters.parameter | ForEach-Object { $_.name } | Where-Object { $commonParameters -notcontains $_ })
        $documented.Count | Should -Be $actual.Count
        foreach ($parameter in $actual) {
            $documented | Should -Contain $parameter
            $entry = $help.parameters.parameter | Where-Object { $_.name -eq $parameter }
            ($entry.description.Text -join ' ') | Should -Not -BeNullOrEmpty
        }
    }

    It 'documents the parameter metadata the cmdlet really has' {
        foreach ($entry in $help.parameters.parameter | Where-Object { $commonParameters -notcontains $_.name }) {
            $real = $command.Parameters[$entry.name]
            $mandatory = @($real.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.Mandatory }).Count -gt 0
            [bool]::Parse($entry.required) | Should -Be $mandatory -Because "-$($entry.name) of $Name"
            $byValue = @($real.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipeline }).Count -gt 0
            ($entry.pipelineInput -match 'ByValue') | Should -Be $byValue -Because "-$($entry.name) of $Name"
        }
    }

    It 'has examples' {
        @($help.examples.example).Count | Should -BeGreaterThan 0
    }
}

Describe 'Example <Number> of <Name>' -ForEach $examples {
    It 'runs without an error, and prints what its page says it prints' {
        $ErrorActionPreference = 'Stop'
        $printed = @(& ([scriptblock]::Create($Code)) | Out-String -Stream | ForEach-Object Trim | Where-Object { $_ })
        $at = 0
        foreach ($value in $Promised) {
            $found = [array]::IndexOf($printed, $value, $at)
            $found | Should -BeGreaterOrEqual 0 -Because "the page says it prints '$value' (after what it printed before that); it printed: $($printed -join ' | ')"
            $at = $found + 1
        }

        if ($Promised.Count -eq 0) {
            # A page that promises an output names it in backticks ("Prints `5`."): one written without them would go
            # unchecked. Only an approximate promise ("Prints about 5") is left as words.
            (Get-Help $Name).examples.example[$Number - 1].remarks.Text -join "`n" | Should -Not -Match '(?m)^Prints (?!about )'
        }
    }
}
