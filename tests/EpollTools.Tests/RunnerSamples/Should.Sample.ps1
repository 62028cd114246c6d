# A sample for the runner's own tests: each It named 'passes' must pass, each named 'fails' must fail.
Describe 'Should' {
    It 'passes: -Be converts to the expected type and ignores case' { '5' | Should -Be 5; 'ABC' | Should -Be 'abc' }
    It 'fails: -Be with a different value' { 5 | Should -Be 6 }
    It 'passes: -Be compares arrays element-wise' { @(1, 2) | Should -Be @(1, 2) }
    It 'fails: -Be with arrays of other lengths' { @(1, 2, 3) | Should -Be @(1, 2) }
    It 'passes: -BeExactly' { 'abc' | Should -BeExactly 'abc' }
    It 'fails: -BeExactly minds case' { 'ABC' | Should -BeExactly 'abc' }
    It 'passes: -BeTrue and -BeFalse' { $true | Should -BeTrue; 0 | Should -BeFalse }
    It 'fails: -BeTrue on $false' { $false | Should -BeTrue }
    It 'passes: -BeNullOrEmpty' { $null | Should -BeNullOrEmpty; @() | Should -BeNullOrEmpty; '' | Should -BeNullOrEmpty }
    It 'fails: -BeNullOrEmpty on a value' { 1 | Should -BeNullOrEmpty }
    It 'passes: -HaveCount' { @(1, 2, 3) | Should -HaveCount 3; @() | Should -HaveCount 0 }
    It 'fails: $null piped is one item for -HaveCount 0' { $null | Should -HaveCount 0 }
    It 'passes: -Match' { 'epoll_wait' | Should -Match '^epoll_' }
    It 'fails: -Match' { 'poll' | Should -Match '^epoll' }
    It 'passes: -Contain' { @(1, 2, 3) | Should -Contain 2 }
    It 'fails: -Contain' { @(1, 2, 3) | Should -Contain 4 }
    It 'passes: -BeOfType' { 'x' | Should -BeOfType ([string]) }
    It 'fails: -BeOfType' { 1 | Should -BeOfType ([string]) }
    It 'passes: -BeGreaterThan and -BeLessThan' { 3 | Should -BeGreaterThan 2; 1 | Should -BeLessThan 2 }
    It 'fails: -BeGreaterThan' { 2 | Should -BeGreaterThan 2 }
    It 'passes: -Not' { 1 | Should -Not -Be 2 }
    It 'fails: -Not' { 1 | Should -Not -Be 1 }
    It 'passes: -Throw -ErrorId and -ExpectedMessage' { { throw [System.InvalidOperationException]::new('bad thing') } | Should -Throw -ExpectedMessage 'bad*' -ExceptionType ([System.InvalidOperationException]) }
    It 'fails: -Throw when nothing is thrown' { { 1 } | Should -Throw }
    It 'fails: -Throw with another error id' { { Get-Command -Name 'No-SuchCommand' -ErrorAction Stop } | Should -Throw -ErrorId 'SomethingElse,*' }
    It 'passes: -Throw -ErrorId matches the FullyQualifiedErrorId' { { Get-Command -Name 'No-SuchCommand' -ErrorAction Stop } | Should -Throw -ErrorId 'CommandNotFoundException,*' }
    It 'fails: -Not -Throw when something is thrown' { { throw 'x' } | Should -Not -Throw }
    It 'passes: -Throw -PassThru returns the error' { $e = { throw 'x' } | Should -Throw -PassThru; $e.Exception.Message | Should -Be 'x' }
}
