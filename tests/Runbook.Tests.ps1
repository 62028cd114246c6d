# docs/debugging-a-stuck-process.md, run: every powershell block in order, in one session, from the repository root;
# each text block after a command must appear in what that command printed at 80 columns (line by line, each line
# found within an output line, "…" standing for a part that varies, such as an inode or a port).

BeforeDiscovery {
    $page = [IO.File]::ReadAllText([IO.Path]::Combine($PSScriptRoot, '..', 'docs', 'debugging-a-stuck-process.md'))
    $steps = [Collections.Generic.List[object]]::new()
    $heading = ''
    foreach ($match in [regex]::Matches($page, '(?ms)^## (?<heading>[^\n]+)$|^```(?<lang>powershell|text)\n(?<body>.*?)^```$')) {
        if ($match.Groups['heading'].Success) { $heading = $match.Groups['heading'].Value; continue }
        if ($match.Groups['lang'].Value -eq 'powershell') {
            $steps.Add(@{ Heading = $heading; Code = $match.Groups['body'].Value; Expected = @(); Number = $steps.Count + 1 })
        }
        elseif ($steps.Count -gt 0) {
            $steps[$steps.Count - 1].Expected = @($match.Groups['body'].Value -split "`n" | Where-Object { $_.Trim() })
        }
    }
}

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd

    # The page's session: one runspace of its own, as a reader's pwsh would be, at the repository root with the module.
    $session = [runspacefactory]::CreateRunspace([initialsessionstate]::CreateDefault2())
    $session.Open()
    $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
    $root = [IO.Path]::GetFullPath([IO.Path]::Combine($PSScriptRoot, '..'))
    # Runs one step in the session; returns what it printed at 80 columns, and throws on any error it wrote.
    function Invoke-InSession([string] $Code) {
        $shell = [powershell]::Create()
        try {
            $shell.Runspace = $session
            $text = -join $shell.AddScript($Code).AddCommand('Out-String').AddParameter('Width', 80).Invoke()
            if ($shell.Streams.Error.Count -gt 0) { throw "The step wrote an error: $($shell.Streams.Error[0])" }
            $text
        }
        finally { $shell.Dispose() }
    }

    $null = Invoke-InSession "Set-Location '$root'; Import-Module '$manifest'"
}

AfterAll {
    try {
        # A step that failed midway may have left its process running.
        $null = Invoke-InSession 'if ($app) { $app.Stop() }'
        $session.Dispose()
    }
    finally { Assert-NoFdLeak $fdBaseline -WithinMs 15000 } # the last section starts bpftrace
}

Describe 'docs/debugging-a-stuck-process.md' {
    It 'has a session for every shape it promises, and a command in each' -ForEach @{ Headings = @($steps | ForEach-Object Heading) } {
        @($Headings | Sort-Object -Unique) | Should -HaveCount 11
    }

    It 'step <Number> (<Heading>) runs, and prints what the page shows' -ForEach $steps {
        $printed = @((Invoke-InSession $Code) -split "`n" | ForEach-Object TrimEnd)
        foreach ($line in $Expected) {
            # "…" on the page stands for what varies (an inode, a port); everything else must be printed as shown.
            $pattern = '*' + ([Management.Automation.WildcardPattern]::Escape($line.Trim()) -replace '…', '*') + '*'
            $printed | Where-Object { $_ -like $pattern } | Should -Not -BeNullOrEmpty -Because "the page shows '$($line.Trim())' after step $Number"
        }
    }
}
