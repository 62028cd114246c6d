# PesterLite: the subset of Pester 5 that EpollTools' *.Tests.ps1 files use, for running them in a hosted
# System.Management.Automation engine where Pester cannot be installed. It keeps Pester 5's documented
# semantics: a discovery phase that runs the file and records blocks and tests, then a run phase that executes
# only the recorded setup, teardown and test blocks, each block in a child scope of its parent.
#
# The DSL functions live in this module so that dot-sourcing a user's block lands in the user's current scope
# (a module function's own scope would swallow BeforeDiscovery variables). New user scopes come from a helper
# script block bound to the user's session state, handed over by the host with Set-PLScopeHelper.

$script:Root = $null
$script:Current = $null
$script:Tests = $null
$script:ScopeHelper = $null
$script:Path = $null

function New-PLBlock([string] $Name, $Parent, $Data, [bool] $Skip) {
    [pscustomobject]@{
        Kind       = 'Block'
        Name       = $Name
        Parent     = $Parent
        Children   = [System.Collections.Generic.List[object]]::new()
        BeforeAll  = [System.Collections.Generic.List[scriptblock]]::new()
        AfterAll   = [System.Collections.Generic.List[scriptblock]]::new()
        BeforeEach = [System.Collections.Generic.List[scriptblock]]::new()
        AfterEach  = [System.Collections.Generic.List[scriptblock]]::new()
        Data       = $Data
        HasData    = $PSBoundParameters.ContainsKey('Data') -and $null -ne $Data
        Skip       = $Skip
        Path       = if ($null -ne $Parent -and $Parent.Path.Count -gt 0) { @($Parent.Path) + $Name } elseif ($null -ne $Parent) { @($Name) } else { @() }
    }
}

function Reset-PLState {
    param([Parameter(Mandatory)] [string] $Path)
    $script:Path = $Path
    $script:Root = New-PLBlock -Name '' -Parent $null -Skip $false
    $script:Current = $script:Root
    $script:Tests = [System.Collections.Generic.List[object]]::new()
}

function Set-PLScopeHelper {
    # A script block bound to the user's session state: param($Action, $Argument) & $Action $Argument $ExecutionContext.SessionState
    param([Parameter(Mandatory)] [scriptblock] $ScriptBlock)
    $script:ScopeHelper = $ScriptBlock
}

function Expand-PLName([string] $Name, $Data) {
    # Pester expands <name>, <_> and <a.b> from the test's data.
    [regex]::Replace($Name, '<([^<>]+)>', {
            param($m)
            $key = $m.Groups[1].Value
            if ($key -eq '_') { return "$Data" }
            $parts = $key.Split('.')
            $value = $null
            if ($Data -is [System.Collections.IDictionary] -and $Data.Contains($parts[0])) { $value = $Data[$parts[0]] }
            elseif ($null -ne $Data -and $null -ne $Data.PSObject.Properties[$parts[0]]) { $value = $Data.($parts[0]) }
            else { return $m.Value }
            foreach ($part in $parts[1..($parts.Count)]) { if ($part) { $value = $value.$part } }
            "$value"
        })
}

function Get-PLItems($ForEach) {
    # @() or $null gives no items; a single value gives one.
    if ($null -eq $ForEach) { return , @() }
    return , @($ForEach)
}

function Add-PLBlock([string] $Name, [scriptblock] $Fixture, $ForEach, [bool] $HasForEach, [bool] $Skip, $UserState) {
    if ($null -eq $script:Current) { throw 'Describe and Context must run inside a test file loaded by the runner.' }
    $items = if ($HasForEach) { Get-PLItems $ForEach } else { , @($null) }
    foreach ($item in $items) {
        $parent = $script:Current
        $blockName = if ($HasForEach) { Expand-PLName $Name $item } else { $Name }
        $block = if ($HasForEach) { New-PLBlock -Name $blockName -Parent $parent -Data $item -Skip ($Skip -or $parent.Skip) }
        else { New-PLBlock -Name $blockName -Parent $parent -Skip ($Skip -or $parent.Skip) }
        $parent.Children.Add($block)
        $script:Current = $block
        try {
            if ($HasForEach) { Set-PLData -State $UserState -Data $item }
            do { . $Fixture } while ($false)
        }
        finally { $script:Current = $parent }
    }
}

function Set-PLData($State, $Data) {
    if ($null -eq $State) { return }
    $State.PSVariable.Set('_', $Data)
    if ($Data -is [System.Collections.IDictionary]) {
        foreach ($key in $Data.Keys) { $State.PSVariable.Set([string]$key, $Data[$key]) }
    }
}

function Describe {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Name,
        [Parameter(Position = 1)] [scriptblock] $Fixture,
        [Alias('TestCases')] [object[]] $ForEach,
        [switch] $Skip,
        [string[]] $Tag
    )
    Add-PLBlock -Name $Name -Fixture $Fixture -ForEach $ForEach -HasForEach $PSBoundParameters.ContainsKey('ForEach') -Skip $Skip.IsPresent -UserState $PSCmdlet.SessionState
}

# Pester 5 gives Context the semantics of Describe (Set-Alias is not in the hosted engine's core cmdlets).
${function:Context} = ${function:Describe}

function It {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Name,
        [Parameter(Position = 1)] [scriptblock] $Test,
        [Alias('TestCases')] [object[]] $ForEach,
        [switch] $Skip,
        [string[]] $Tag
    )
    if ($null -eq $script:Current -or $script:Current -eq $script:Root) {
        throw "It '$Name' must be inside a Describe or Context block."
    }
    $hasData = $PSBoundParameters.ContainsKey('ForEach')
    $items = if ($hasData) { Get-PLItems $ForEach } elseif ($script:Current.HasData) { , @($script:Current.Data) } else { , @($null) }
    foreach ($item in $items) {
        $testName = if ($hasData -or $script:Current.HasData) { Expand-PLName $Name $item } else { $Name }
        $script:Tests.Add([pscustomobject]@{
                Kind        = 'Test'
                Id          = $script:Tests.Count
                Name        = $testName
                Path        = @($script:Current.Path) + $testName
                Block       = $script:Current
                ScriptBlock = $Test
                Data        = $item
                HasData     = $hasData -or $script:Current.HasData
                Skip        = $Skip.IsPresent -or $script:Current.Skip
                Result      = 'NotRun'
                Message     = $null
                Location    = $null
            })
        $script:Current.Children.Add($script:Tests[$script:Tests.Count - 1])
    }
}

function Add-PLSetup([string] $Kind, [scriptblock] $Block) {
    if ($null -eq $script:Current) { throw "$Kind must run inside a test file loaded by the runner." }
    if ($Kind -in 'BeforeEach', 'AfterEach' -and $script:Current -eq $script:Root) {
        throw "$Kind is not allowed at the top of a file; put it in a Describe or Context block."
    }
    $list = $script:Current.$Kind
    if ($list.Count -gt 0) { throw "Only one $Kind is allowed per block (block '$($script:Current.Name)')." }
    $list.Add($Block)
}

function BeforeAll { param([Parameter(Mandatory, Position = 0)] [scriptblock] $Scriptblock) Add-PLSetup 'BeforeAll' $Scriptblock }
function AfterAll { param([Parameter(Mandatory, Position = 0)] [scriptblock] $Scriptblock) Add-PLSetup 'AfterAll' $Scriptblock }
function BeforeEach { param([Parameter(Mandatory, Position = 0)] [scriptblock] $Scriptblock) Add-PLSetup 'BeforeEach' $Scriptblock }
function AfterEach { param([Parameter(Mandatory, Position = 0)] [scriptblock] $Scriptblock) Add-PLSetup 'AfterEach' $Scriptblock }

function BeforeDiscovery {
    param([Parameter(Mandatory, Position = 0)] [scriptblock] $Scriptblock)
    do { . $Scriptblock } while ($false)
}

function Get-PLTests {
    # What discovery found, as plain rows the host can serialize.
    foreach ($test in $script:Tests) {
        [pscustomobject]@{ Id = $test.Id; Path = [string[]] $test.Path; Skip = $test.Skip }
    }
}

function Get-PLResults {
    foreach ($test in $script:Tests) {
        [pscustomobject]@{ Id = $test.Id; Result = $test.Result; Message = $test.Message; Location = $test.Location }
    }
}

function Format-PLError($ErrorRecord) {
    $record = $ErrorRecord
    $location = $null
    if ($null -ne $record.InvocationInfo -and $record.InvocationInfo.ScriptName) {
        $location = '{0}:{1}' -f $record.InvocationInfo.ScriptName, $record.InvocationInfo.ScriptLineNumber
    }
    $message = if ($record.FullyQualifiedErrorId -eq 'PesterAssertionFailed') { $record.Exception.Message }
    else { '{0}: {1}' -f $record.Exception.GetType().FullName, $record.Exception.Message }
    if ($record.FullyQualifiedErrorId -ne 'PesterAssertionFailed' -and $record.ScriptStackTrace) {
        # Only the test file's own frames: the runner's are the same for every test.
        $frames = $record.ScriptStackTrace -split "`n" | Where-Object { $_ -notmatch 'PesterLite\.psm1|<No file>' }
        $message += [Environment]::NewLine + ($frames -join [Environment]::NewLine)
    }
    [pscustomobject]@{ Message = $message; Location = $location }
}

function Set-PLOutcome($Test, [string] $Result, $ErrorRecord) {
    $Test.Result = $Result
    if ($null -ne $ErrorRecord) {
        $formatted = Format-PLError $ErrorRecord
        $Test.Message = $formatted.Message
        $Test.Location = $formatted.Location
    }
}

function Get-PLBlockTests($Block) {
    foreach ($child in $Block.Children) {
        if ($child.Kind -eq 'Test') { $child } else { Get-PLBlockTests $child }
    }
}

function Invoke-PLUserBlock([scriptblock] $Block) {
    # The do/while catches a stray break or continue in a test, which would otherwise unwind the runner.
    do { . $Block } while ($false)
}

function Invoke-PLInNewScope([scriptblock] $Action, $Argument) {
    & $script:ScopeHelper $Action $Argument
}

function Invoke-PLBlock($Block, $EachChain) {
    $runnable = @(Get-PLBlockTests $Block | Where-Object { -not $_.Skip })
    foreach ($test in @(Get-PLBlockTests $Block | Where-Object { $_.Skip })) { $test.Result = 'Skipped' }
    if ($runnable.Count -eq 0) { return }

    $chain = @($EachChain) + @($Block)
    Invoke-PLInNewScope -Argument ([pscustomobject]@{ Block = $Block; Chain = $chain; Runnable = $runnable }) -Action {
        param($Context, $UserState)
        $Block = $Context.Block
        $blockErrors = [System.Collections.Generic.List[object]]::new()
        try {
            if ($Block.HasData) { Set-PLData -State $UserState -Data $Block.Data }
            $setupFailed = $null
            foreach ($setup in $Block.BeforeAll) {
                try { Invoke-PLUserBlock $setup }
                catch { $setupFailed = $_; break }
            }
            if ($null -ne $setupFailed) {
                foreach ($test in $Context.Runnable) { Set-PLOutcome $test 'Failed' $setupFailed; $test.Message = "BeforeAll failed: $($test.Message)" }
                return
            }
            foreach ($child in $Block.Children) {
                if ($child.Kind -eq 'Block') { Invoke-PLBlock $child $Context.Chain }
                elseif (-not $child.Skip) { Invoke-PLTest $child $Context.Chain }
            }
        }
        finally {
            foreach ($teardown in $Block.AfterAll) {
                try { Invoke-PLUserBlock $teardown }
                catch {
                    $failure = Format-PLError $_
                    $script:BlockFailures.Add("AfterAll of '$(@($Block.Path) -join ' > ')' failed at $($failure.Location): $($failure.Message)")
                }
            }
        }
    }
}

function Invoke-PLTest($Test, $Chain) {
    Invoke-PLInNewScope -Argument ([pscustomobject]@{ Test = $Test; Chain = $Chain }) -Action {
        param($Context, $UserState)
        $Test = $Context.Test
        $failure = $null
        try {
            if ($Test.HasData) { Set-PLData -State $UserState -Data $Test.Data }
            foreach ($block in $Context.Chain) { foreach ($setup in $block.BeforeEach) { Invoke-PLUserBlock $setup } }
            if ($null -ne $Test.ScriptBlock) { Invoke-PLUserBlock $Test.ScriptBlock }
        }
        catch { $failure = $_ }
        finally {
            $innerFirst = @($Context.Chain)
            [array]::Reverse($innerFirst)
            foreach ($block in $innerFirst) {
                foreach ($teardown in $block.AfterEach) {
                    try { Invoke-PLUserBlock $teardown }
                    catch { if ($null -eq $failure) { $failure = $_ } }
                }
            }
        }
        if ($null -ne $failure) { Set-PLOutcome $Test 'Failed' $failure } else { $Test.Result = 'Passed' }
    }
}

function Invoke-PLRun {
    # Runs what discovery recorded; returns the failures of blocks (AfterAll) that belong to no single test.
    $script:BlockFailures = [System.Collections.Generic.List[string]]::new()
    if ($null -eq $script:ScopeHelper) { throw 'Set-PLScopeHelper must be called before Invoke-PLRun.' }
    Invoke-PLBlock $script:Root @()
    $script:BlockFailures
}

function Should {
    [CmdletBinding()]
    param(
        [Parameter(ValueFromPipeline)] [AllowNull()] [AllowEmptyCollection()] $ActualValue,
        [Parameter(Position = 0)] [AllowNull()] $ExpectedValue,
        [switch] $Not,
        [switch] $Be, [switch] $BeExactly, [switch] $BeTrue, [switch] $BeFalse, [switch] $BeNullOrEmpty,
        [switch] $HaveCount, [switch] $Match, [switch] $Contain, [switch] $BeOfType,
        [switch] $BeGreaterThan, [switch] $BeLessThan, [switch] $Throw,
        [string] $ErrorId, [string] $ExpectedMessage, [type] $ExceptionType,
        [switch] $PassThru, [string] $Because
    )
    begin { $items = [System.Collections.Generic.List[object]]::new() }
    process { if ($MyInvocation.ExpectingInput) { $items.Add($ActualValue) } }
    end {
        if (-not $MyInvocation.ExpectingInput) { if ($PSBoundParameters.ContainsKey('ActualValue')) { foreach ($i in @($ActualValue)) { $items.Add($i) } } }
        $actual = if ($items.Count -eq 0) { $null } elseif ($items.Count -eq 1) { $items[0] } else { $items.ToArray() }
        $where = '{0}:{1}' -f $MyInvocation.ScriptName, $MyInvocation.ScriptLineNumber
        $because = if ($Because) { " because $Because" } else { '' }
        $negate = $Not.IsPresent

        function Fail([string] $Message) {
            $exception = [System.Exception]::new("$Message$because (at $where)")
            $record = [System.Management.Automation.ErrorRecord]::new($exception, 'PesterAssertionFailed', 'InvalidResult', $actual)
            $PSCmdlet.ThrowTerminatingError($record)
        }
        function Show($value) {
            if ($null -eq $value) { return '$null' }
            if ($value -is [string]) { return "'$value'" }
            if ($value -is [System.Collections.IEnumerable]) { return '@(' + ((@($value) | ForEach-Object { Show $_ }) -join ', ') + ')' }
            return "$value"
        }
        function Check([bool] $ok, [string] $positive, [string] $negative) {
            if ($ok -eq $negate) { Fail $(if ($negate) { $negative } else { $positive }) }
        }

        if ($Throw) {
            if ($actual -isnot [scriptblock]) { Fail 'Should -Throw needs a script block as input.' }
            $caught = $null
            try { do { & $actual } while ($false) } catch { $caught = $_ }
            if ($negate) {
                if ($null -ne $caught) { Fail "Expected no exception to be thrown, but an exception `"$($caught.Exception.Message)`" was thrown from $($caught.InvocationInfo.ScriptName):$($caught.InvocationInfo.ScriptLineNumber)." }
                return
            }
            if ($null -eq $caught) { Fail 'Expected an exception to be thrown, but no exception was thrown.' }
            if ($ExceptionType -and $caught.Exception -isnot $ExceptionType) { Fail "Expected an exception of type [$($ExceptionType.FullName)] to be thrown, but got [$($caught.Exception.GetType().FullName)]: $($caught.Exception.Message)" }
            if ($PSBoundParameters.ContainsKey('ExpectedMessage') -and $caught.Exception.Message -notlike $ExpectedMessage) { Fail "Expected an exception with message like '$ExpectedMessage' to be thrown, but the message was '$($caught.Exception.Message)'." }
            if ($PSBoundParameters.ContainsKey('ErrorId') -and $caught.FullyQualifiedErrorId -notlike $ErrorId) { Fail "Expected an exception with FullyQualifiedErrorId like '$ErrorId' to be thrown, but got '$($caught.FullyQualifiedErrorId)': $($caught.Exception.Message)" }
            if ($PassThru) { return $caught }
            return
        }

        if ($Be) {
            $ok = if ($actual -is [array] -or $ExpectedValue -is [array]) {
                $a = @($actual); $e = @($ExpectedValue)
                $same = $a.Count -eq $e.Count
                for ($i = 0; $same -and $i -lt $a.Count; $i++) { $same = $e[$i] -eq $a[$i] }
                $same
            }
            elseif ($null -eq $ExpectedValue) { $null -eq $actual }
            else { $ExpectedValue -eq $actual }
            Check $ok "Expected $(Show $ExpectedValue), but got $(Show $actual)." "Expected $(Show $ExpectedValue) to be different from the actual value, but got the same value."
        }
        elseif ($BeExactly) {
            $ok = if ($null -eq $ExpectedValue) { $null -eq $actual } else { $ExpectedValue -ceq $actual }
            Check $ok "Expected exactly $(Show $ExpectedValue), but got $(Show $actual)." "Expected not exactly $(Show $ExpectedValue), but got it."
        }
        elseif ($BeNullOrEmpty) {
            $ok = $null -eq $actual -or ($actual -is [string] -and $actual -eq '') -or ($actual -is [System.Collections.ICollection] -and $actual.Count -eq 0)
            Check $ok "Expected `$null or empty, but got $(Show $actual)." 'Expected a value, but got $null or empty.'
        }
        elseif ($HaveCount) {
            $count = $items.Count
            Check ($count -eq $ExpectedValue) "Expected a collection with size $ExpectedValue, but got a collection with size $count $(Show $actual)." "Expected a collection with size different from $ExpectedValue, but got that size."
        }
        elseif ($Contain) {
            Check (@($actual) -contains $ExpectedValue) "Expected $(Show $ExpectedValue) to be found in collection $(Show $actual), but it was not found." "Expected $(Show $ExpectedValue) to not be found in collection $(Show $actual), but it was found."
        }
        else {
            $values = if ($items.Count -eq 0) { , @($null) } else { , $items.ToArray() }
            foreach ($value in $values) {
                if ($BeTrue) { Check ([bool] $value) "Expected `$true, but got $(Show $value)." "Expected `$false, but got $(Show $value)." }
                elseif ($BeFalse) { Check (-not [bool] $value) "Expected `$false, but got $(Show $value)." "Expected `$true, but got $(Show $value)." }
                elseif ($Match) { Check ($value -match $ExpectedValue) "Expected regular expression '$ExpectedValue' to match $(Show $value), but it did not match." "Expected regular expression '$ExpectedValue' to not match $(Show $value), but it did match." }
                elseif ($BeOfType) {
                    $type = if ($ExpectedValue -is [type]) { $ExpectedValue } else { [type] $ExpectedValue }
                    Check ($value -is $type) "Expected the value to have type [$($type.FullName)] or any of its subtypes, but got $(Show $value) of type [$(if ($null -ne $value) { $value.GetType().FullName } else { 'null' })]." "Expected the value to not have type [$($type.FullName)], but it did."
                }
                elseif ($BeGreaterThan) { Check ($value -gt $ExpectedValue) "Expected the actual value to be greater than $(Show $ExpectedValue), but got $(Show $value)." "Expected the actual value to be less than or equal to $(Show $ExpectedValue), but got $(Show $value)." }
                elseif ($BeLessThan) { Check ($value -lt $ExpectedValue) "Expected the actual value to be less than $(Show $ExpectedValue), but got $(Show $value)." "Expected the actual value to be greater than or equal to $(Show $ExpectedValue), but got $(Show $value)." }
                else { Fail 'Should needs an operator: -Be, -BeExactly, -BeTrue, -BeFalse, -BeNullOrEmpty, -HaveCount, -Match, -Contain, -BeOfType, -BeGreaterThan, -BeLessThan or -Throw.' }
            }
        }
    }
}

Export-ModuleMember -Function Describe, Context, It, BeforeAll, AfterAll, BeforeEach, AfterEach, BeforeDiscovery, Should,
    Reset-PLState, Set-PLScopeHelper, Get-PLTests, Get-PLResults, Invoke-PLRun
