# docs/architecture.md kept true: every folder it names exists, every folder of the core is named there, the
# output objects' folder holds output objects only (no class that reads /proc or drives a scan), and no source file
# grows past what one reader holds in mind (generated tables aside).

BeforeAll {
    Import-Module ([IO.Path]::Combine($PSScriptRoot, 'TestHelpers.psm1'))
    Import-EpollTools
    $fdBaseline = Get-ModuleKindFd
    $root = [IO.Path]::GetFullPath([IO.Path]::Combine($PSScriptRoot, '..'))
    $page = [IO.File]::ReadAllText([IO.Path]::Combine($root, 'docs', 'architecture.md'))
    $named = @([regex]::Matches($page, '`((?:src|module|tests|docs|examples|bench)/[\w./-]*/)`') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique)
}

AfterAll { Assert-NoFdLeak $fdBaseline }

Describe 'docs/architecture.md' {
    It 'names only folders that exist' {
        $named.Count | Should -BeGreaterThan 8
        foreach ($folder in $named) {
            [IO.Directory]::Exists([IO.Path]::Combine($root, $folder)) | Should -BeTrue -Because "the page names $folder"
        }
    }

    It 'names every folder of the core' {
        $core = [IO.Path]::Combine($root, 'src', 'EpollTools.Core')
        $folders = @([IO.Directory]::GetDirectories($core) | ForEach-Object { [IO.Path]::GetFileName($_) } | Where-Object { $_ -notin 'bin', 'obj' })
        foreach ($folder in $folders) {
            $named | Should -Contain "src/EpollTools.Core/$folder/"
        }
    }

    It 'gives each folder of the core the namespace the page says' {
        foreach ($row in [regex]::Matches($page, '(?m)^\| `src/EpollTools\.Core/(\w+)/` \| `([\w.]+)` \|')) {
            $folder = [IO.Path]::Combine($root, 'src', 'EpollTools.Core', $row.Groups[1].Value)
            foreach ($file in [IO.Directory]::GetFiles($folder, '*.cs')) {
                [IO.File]::ReadAllText($file) | Should -Match "(?m)^namespace $([regex]::Escape($row.Groups[2].Value));" -Because $file
            }
        }
    }

    It 'keeps the output objects'' folder to output objects: nothing there reads /proc' {
        foreach ($file in [IO.Directory]::GetFiles([IO.Path]::Combine($root, 'src', 'EpollTools.Core', 'Proc'), '*.cs')) {
            [IO.File]::ReadAllText($file) | Should -Not -Match '\b(ProcFs|FdFiles|TaskFiles|FileIdentity|ProcessMemory|ProcFileReader|NativeMethods)\.|\bFdDirector(y|ies)\b' -Because $file
        }
    }

    It 'keeps every source file to 350 lines, generated tables aside' {
        # A table copied from a kernel header (X64SyscallNames) is one list, read by lookup, not by a reader.
        $generated = @('X64SyscallNames.cs')
        $long = foreach ($file in [IO.Directory]::GetFiles([IO.Path]::Combine($root, 'src'), '*.cs', 'AllDirectories')) {
            if ($file -match '[\\/](bin|obj)[\\/]' -or [IO.Path]::GetFileName($file) -in $generated) { continue }
            $lines = [IO.File]::ReadAllLines($file).Count
            if ($lines -gt 350) { '{0} ({1} lines)' -f $file.Substring($root.Length + 1), $lines }
        }
        @($long) | Should -BeNullOrEmpty
    }
}
