# A sample for the runner's own tests (not part of the suite): each It states what Pester 5 does.
BeforeDiscovery {
    $discoveryValue = 'from BeforeDiscovery'
    $cases = @(@{ Word = 'alpha' }, @{ Word = 'beta' })
}

BeforeAll {
    $fileLevel = 'file BeforeAll'
}

Describe 'Scoping' {
    BeforeAll {
        $blockLevel = 'block BeforeAll'
        $script:log = [System.Collections.Generic.List[string]]::new()
    }

    BeforeEach {
        $perTest = 'set in BeforeEach'
        $script:log.Add('BeforeEach')
    }

    AfterEach {
        $script:log.Add('AfterEach')
    }

    It 'sees the file and block BeforeAll and its BeforeEach' {
        $fileLevel | Should -Be 'file BeforeAll'
        $blockLevel | Should -Be 'block BeforeAll'
        $perTest | Should -Be 'set in BeforeEach'
        $leaked = 'set in a test'
    }

    It 'does not see what the previous test set' {
        $leaked | Should -BeNullOrEmpty
    }

    It 'does not see Describe-body variables at run time' {
        $describeBody | Should -BeNullOrEmpty
    }

    It 'ran BeforeEach and AfterEach around each test' {
        ($script:log -join ',') | Should -Be 'BeforeEach,AfterEach,BeforeEach,AfterEach,BeforeEach,AfterEach,BeforeEach'
    }

    $describeBody = 'only during discovery'
}

Describe 'Data' {
    It 'expands <Word> from -ForEach' -ForEach $cases {
        @('alpha', 'beta') | Should -Contain $Word
        $_.Word | Should -Be $Word
    }

    It 'keeps BeforeDiscovery values for -Skip and names: <_>' -ForEach @($discoveryValue) {
        $_ | Should -Be 'from BeforeDiscovery'
    }

    It 'is skipped' -Skip {
        throw 'a skipped test must not run'
    }
}

Describe 'Failures' {
    It 'fails on a Should' {
        1 | Should -Be 2
    }

    It 'fails on a thrown exception' {
        throw 'boom'
    }

    It 'survives a stray break' {
        break
    }

    It 'still runs after the break' {
        $true | Should -BeTrue
    }
}

Describe 'A failing BeforeAll' {
    BeforeAll { throw 'setup failed' }
    AfterAll { $script:afterAllRan = $true }

    It 'is reported failed' {
        $true | Should -BeTrue
    }
}

Describe 'After a failing BeforeAll' {
    It 'its AfterAll still ran' {
        $script:afterAllRan | Should -BeTrue
    }
}

Describe 'A failing AfterAll' {
    AfterAll { throw 'teardown failed' }

    It 'passes itself' {
        $true | Should -BeTrue
    }
}
