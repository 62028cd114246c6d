# End-to-end: one pid taken by one short-lived process after another (tests/fixtures/pid-reuser.c: children that
# register only eventfds and children that register only pipes, alternating on the same pid, each exiting after a
# few milliseconds with every fd open). Every row read from that pid must be right for the process it names: a
# current eventfd with data 0xe..., or a current pipe with data 0xb..., in a process named for that kind. A row that
# mixes two processes, or calls a registration stale because its process was exiting, is a wrong answer.

BeforeDiscovery {
    # clone3 with set_tid, which puts each child on the same pid, needs CAP_SYS_ADMIN.
    $isRoot = [Environment]::UserName -eq 'root'
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
    $workDir = New-WorkDirectory
    $reuserExe = Build-Fixture 'pid-reuser' $workDir

    # Reads the pid with -Read for -Seconds and returns how many rows came and which were wrong, with why.
    function Measure-WrongRow([int] $ProcessId, [scriptblock] $Read, [int] $Seconds = 3) {
        $result = @{ Calls = 0; Rows = 0; Wrong = [Collections.Generic.List[string]]::new() }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($clock.Elapsed.TotalSeconds -lt $Seconds) {
            $result.Calls++
            foreach ($row in @(& $Read | Where-Object ProcessId -eq $ProcessId)) {
                $result.Rows++
                $kind, $name = switch ($row.Data -band 0xf000) { 0xe000 { 'EventFd', 'reuse-eventfd' } 0xb000 { 'Pipe', 'reuse-pipe' } default { '?', '?' } }
                if ($row.State -ne 'Current' -or "$($row.TargetKind)" -ne $kind -or $row.ProcessName -ne $name -or $row.TargetFd -ne ($row.Data -band 0xfff)) {
                    $result.Wrong.Add(('{0} data 0x{1:x} fd {2}: {3} {4} {5}' -f $row.ProcessName, $row.Data, $row.TargetFd, $row.State, $row.TargetKind, $row.Target))
                }
            }
        }
        $result
    }
}

AfterAll {
    try { [IO.Directory]::Delete($workDir, $true) }
    finally { Assert-NoFdLeak $fdBaseline }
}

Describe 'Get-EpollInterest on a pid that is reused while it is read' -Skip:(-not $isRoot) {
    BeforeAll {
        $reuser = Start-Fixture $reuserExe ''
        $reusedPid = $reuser.pid
    }

    AfterAll { Stop-Helper $reuser.Process }

    It 'never mixes two processes, nor calls an exiting process''s registrations stale (-Id)' {
        $result = Measure-WrongRow $reusedPid { Get-EpollInterest -Id $reusedPid -ErrorAction SilentlyContinue -WarningAction SilentlyContinue }
        $result.Rows | Should -BeGreaterThan 100 -Because 'the fixture must be read while it churns for the test to mean anything'
        $result.Wrong | Should -BeNullOrEmpty
    }

    It 'never mixes two processes with -Readiness either' {
        $result = Measure-WrongRow $reusedPid { Get-EpollInterest -Id $reusedPid -Readiness -ErrorAction SilentlyContinue -WarningAction SilentlyContinue }
        $result.Rows | Should -BeGreaterThan 100
        $result.Wrong | Should -BeNullOrEmpty
    }

    It 'never mixes two processes, nor calls registrations stale, in a host-wide -All' {
        # A host-wide read takes longer than the fixture's children live: children that live up to 300 ms are met.
        $slow = Start-Fixture $reuserExe '20 300'
        try { $result = Measure-WrongRow $slow.pid { Get-EpollInterest -All -ErrorAction SilentlyContinue -WarningAction SilentlyContinue } }
        finally { Stop-Helper $slow.Process }
        $result.Calls | Should -BeGreaterThan 5
        $result.Rows | Should -BeGreaterThan 0 -Because 'some of the host-wide reads must meet the fixture for the test to mean anything'
        $result.Wrong | Should -BeNullOrEmpty
    }

    It 'reads the pid''s waits without an error that is not the process being gone' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $errors = [Collections.Generic.List[string]]::new()
        while ($clock.Elapsed.TotalSeconds -lt 2) {
            $null = Get-MultiplexerWait -Id $reusedPid -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
            foreach ($problem in $problems) {
                if ($problem.FullyQualifiedErrorId -notlike 'NoProcessFoundForGivenId,*') { $errors.Add("$($problem.FullyQualifiedErrorId): $problem") }
            }
        }
        $errors | Should -BeNullOrEmpty
    }
}

Describe 'Get-WaitChain on a holder whose pid is reused while the chain is walked' -Skip:(-not $isRoot) {
    BeforeAll {
        # A reader blocks on a pipe; the pid alternates between a holder of its write end and a stranger holding
        # another pipe under the same fd number (tests/fixtures/pid-reuser.c, chain mode), each living 5 to 40 ms.
        $reuser = Start-Fixture $reuserExe 'chain 5 40'
    }

    AfterAll { Stop-Helper $reuser.Process }

    It 'never names the stranger that took the pid as a holder, and says the holder exited when it did' {
        $seen = @{}
        $wrong = [Collections.Generic.List[string]]::new()
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while ($clock.Elapsed.TotalSeconds -lt 3) {
            foreach ($link in @(Get-WaitChain -Id $reuser.reader -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)) {
                if ($link.ProcessId -ne $reuser.reader) { continue }
                if ($link.HolderProcessId -eq $reuser.pid) {
                    $seen["$($link.HolderName) $($link.End)"]++
                    if ($link.HolderName -eq 'reuse-stranger') { $wrong.Add("$($link.HolderName) fd $($link.HolderFd): $($link.End) $($link.Detail)") }
                }
            }
        }
        $wrong | Should -BeNullOrEmpty
        # The test means something only if the pid's holder was met both alive and gone.
        $seen.Keys | Should -Contain 'reuse-holder BlockedElsewhere' -Because "seen: $($seen.Keys -join '; ')"
        @($seen.Keys | Where-Object { $_ -like '* Gone' }).Count | Should -BeGreaterThan 0 -Because "seen: $($seen.Keys -join '; ')"
    }
}
