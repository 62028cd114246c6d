# What the tests/*.Tests.ps1 files share: importing the built module, the per-file fd-leak check, helper processes,
# bounded waits, and running pwsh as an unprivileged user. Imported by each file's top-level BeforeAll.

$repoRoot = [IO.Path]::GetFullPath([IO.Path]::Combine($PSScriptRoot, '..'))

<#
.SYNOPSIS
    Imports the module from this checkout (the built module/bin), unless it is loaded already.
#>
function Import-EpollTools {
    if (-not (Get-Module EpollTools)) {
        Import-Module ([IO.Path]::Combine($repoRoot, 'EpollTools.psd1')) -Global
    }
}

# The runtime opens some fds once per process, the first time a feature is used: the pipe that reaps child
# processes, and the socket engine's epoll instance and its wake-up pipe. Opened here, before any file counts its
# fds, so that the first test to start a process or use a socket is not blamed for them.
function Initialize-RuntimeFds {
    $start = [Diagnostics.ProcessStartInfo]::new('/bin/true')
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $child = [Diagnostics.Process]::Start($start)
    $child.WaitForExit()
    $child.StandardOutput.Dispose()
    $child.Dispose()

    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $client = [Net.Sockets.TcpClient]::new()
    try {
        $accept = $listener.AcceptTcpClientAsync()
        $client.ConnectAsync([Net.IPAddress]::Loopback, $listener.LocalEndpoint.Port).GetAwaiter().GetResult()
        $accept.GetAwaiter().GetResult().Dispose()
    }
    finally {
        $client.Dispose()
        $listener.Stop()
    }
}

Initialize-RuntimeFds

<#
.SYNOPSIS
    The fds of the kinds the module opens (epoll, eventfd, timerfd, signalfd, pipes, sockets) that this process has
    now, as a table fd -> link. Runtime assembly mappings and plain files are left out: the runtime opens those as
    it loads code.
#>
function Get-ModuleKindFd {
    $fds = @{}
    foreach ($entry in [IO.Directory]::GetFileSystemEntries('/proc/self/fd')) {
        $link = ([IO.FileInfo]::new($entry)).LinkTarget
        if ($link -match '^(anon_inode:|pipe:|socket:)') {
            $fds[[int] [IO.Path]::GetFileName($entry)] = $link
        }
    }
    $fds
}

<#
.SYNOPSIS
    Throws when this process holds more fds of the module's kinds than it did at -Before: every test file calls it
    in its top-level AfterAll, so a leak fails the file that caused it. -WithinMs: how long fds may take to close
    (a killed bpftrace's pipes close when it has exited, which takes a second or more while the kernel detaches its
    probes: the files that start one give it 15 s).
#>
function Assert-NoFdLeak([hashtable] $Before, [int] $WithinMs = 1000) {
    # Closing a runspace or a process releases its fds on a finalizer or a background thread at times: let them run.
    # A pipe can also be open for a moment on another thread (the runtime's own, around a process start): a leak is
    # what is still open after a second.
    $deadline = [Diagnostics.Stopwatch]::StartNew()
    do {
        [GC]::Collect()
        [GC]::WaitForPendingFinalizers()
        $after = Get-ModuleKindFd
        if ($after.Count -le $Before.Count) { return }
        Start-Sleep -Milliseconds 50
    } while ($deadline.ElapsedMilliseconds -lt $WithinMs)
    if ($after.Count -gt $Before.Count) {
        $new = foreach ($fd in $after.Keys) { if ($Before[$fd] -ne $after[$fd]) { "$fd -> $($after[$fd])" } }
        throw "fds leaked: $($Before.Count) pipes, sockets and anonymous inodes open before this file's tests, $($after.Count) after; new: $($new -join ', ')"
    }
}

<#
.SYNOPSIS
    A new empty directory under the temporary directory, for one test file's fixtures and sockets; the caller deletes it.
#>
function New-WorkDirectory {
    $path = [IO.Path]::Combine([IO.Path]::GetTempPath(), 'epolltools-' + [Guid]::NewGuid().ToString('N'))
    $null = [IO.Directory]::CreateDirectory($path)
    $path
}

<#
.SYNOPSIS
    Compiles one of tests/fixtures/*.c (or examples/*.c, the programs the docs start) with gcc into -Directory and
    returns the program's path. -Freestanding32 builds a 32-bit x86 program without libc (it makes its calls with
    int 0x80), which needs no 32-bit libc on the host.
#>
function Build-Fixture([string] $Name, [string] $Directory, [switch] $Freestanding32) {
    $exe = [IO.Path]::Combine($Directory, $Name)
    $source = [IO.Path]::Combine($repoRoot, 'tests', 'fixtures', "$Name.c")
    if (-not [IO.File]::Exists($source)) { $source = [IO.Path]::Combine($repoRoot, 'examples', "$Name.c") }
    [string[]] $flags = if ($Freestanding32) {
        # No stack protector or unwind tables: they need libc; no SSE: the entry point does not promise its alignment.
        '-m32', '-nostdlib', '-static', '-ffreestanding', '-fno-pie', '-no-pie', '-fno-stack-protector', '-mno-sse', '-fno-asynchronous-unwind-tables'
    }
    else { '-lpthread' }
    $output = & gcc -O2 -Wall -o $exe $source @flags 2>&1
    if ($LASTEXITCODE -ne 0) { throw "gcc failed on $Name.c: $output" }
    $exe
}

<#
.SYNOPSIS
    Starts a helper process that talks over its standard input and output.
#>
function Start-Helper([string] $Exe, [string] $Arguments) {
    $info = [Diagnostics.ProcessStartInfo]::new($Exe, $Arguments)
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    [Diagnostics.Process]::Start($info)
}

<#
.SYNOPSIS
    Starts a fixture that prints "name value" lines and then "ready"; returns the values (as integers) in a hashtable,
    with the process itself as Process.
#>
function Start-Fixture([string] $Exe, [string] $Arguments) {
    $process = Start-Helper $Exe $Arguments
    $values = @{ Process = $process }
    while (($line = $process.StandardOutput.ReadLine()) -ne 'ready') {
        if ($null -eq $line) { throw "$([IO.Path]::GetFileName($Exe)) $Arguments ended before it was ready." }
        $name, $value = $line.Split(' ', 2)
        $values[$name] = [int] $value
    }

    $values
}

<#
.SYNOPSIS
    Closing its standard input tells a helper to exit; killed if it has not within ten seconds.
#>
function Stop-Helper([Diagnostics.Process] $Process) {
    $Process.StandardInput.Close()
    if (-not $Process.WaitForExit(10000)) { $Process.Kill() }
    # A reader used synchronously is the caller's to close: Process.Dispose leaves it open.
    $Process.StandardOutput.Dispose()
    $Process.Dispose()
}

<#
.SYNOPSIS
    Bounded polling: true once the condition holds, false if it never did within the limit (a hang guard, not a timing).
#>
function Wait-Until([scriptblock] $Condition, [int] $LimitMs = 10000) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($clock.ElapsedMilliseconds -lt $LimitMs) {
        if (& $Condition) { return $true }
        [Threading.Thread]::Sleep(10)
    }
    $false
}

<#
.SYNOPSIS
    A TCP connection on loopback made with synchronous sockets (.NET registers a socket in its own epoll instance
    only for asynchronous calls, so neither end is watched by anything): Listener, Client (the connecting end),
    Server (the accepted end), each end's Fd, and Dispose(), which closes all three.
#>
function New-LoopbackConnection {
    $listener = [Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
    $client = [Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
    try {
        $listener.Bind([Net.IPEndPoint]::new([Net.IPAddress]::Loopback, 0))
        $listener.Listen(1)
        $client.Connect($listener.LocalEndPoint)
        $server = $listener.Accept()
    }
    catch { $client.Dispose(); $listener.Dispose(); throw }
    $connection = [pscustomobject]@{
        Listener = $listener; Client = $client; Server = $server
        ClientFd = [int] $client.SafeHandle.DangerousGetHandle(); ServerFd = [int] $server.SafeHandle.DangerousGetHandle()
    }
    $connection | Add-Member -MemberType ScriptMethod -Name Dispose -Value { $this.Server.Dispose(); $this.Client.Dispose(); $this.Listener.Dispose() }
    $connection
}

<#
.SYNOPSIS
    Runs -Script in a second runspace of this process with the module imported, in the background, as a second
    user session would: returns Shell, Runspace, Async (the IAsyncResult) and Output (a collection that fills as
    the script writes). -Argument is passed as $args.
#>
function Start-BackgroundCommand([string] $Script, [object[]] $Argument = @()) {
    $runspace = [runspacefactory]::CreateRunspace([initialsessionstate]::CreateDefault2())
    $runspace.Open()
    $shell = [powershell]::Create()
    $shell.Runspace = $runspace
    $manifest = [IO.Path]::Combine((Get-Module EpollTools).ModuleBase, 'EpollTools.psd1')
    $null = $shell.AddScript("Import-Module '$manifest'; $Script")
    foreach ($value in $Argument) { $null = $shell.AddArgument($value) }
    $output = [Management.Automation.PSDataCollection[psobject]]::new()
    $async = $shell.BeginInvoke([Management.Automation.PSDataCollection[psobject]]::new(), $output)
    [pscustomobject]@{ Shell = $shell; Runspace = $runspace; Async = $async; Output = $output }
}

<#
.SYNOPSIS
    Ends what Start-BackgroundCommand started: waits for it (bounded), returns its output and errors, disposes all.
#>
function Stop-BackgroundCommand($Background) {
    try {
        if (-not $Background.Async.AsyncWaitHandle.WaitOne(10000)) { $Background.Shell.Stop() }
        try { $null = $Background.Shell.EndInvoke($Background.Async) }
        catch [Management.Automation.MethodInvocationException] {
            # A command stopped on purpose (as Ctrl+C stops it) ends its pipeline with PipelineStoppedException.
            if ($_.Exception.InnerException -isnot [Management.Automation.PipelineStoppedException]) { throw }
        }
        [pscustomobject]@{ Output = @($Background.Output); Errors = @($Background.Shell.Streams.Error) }
    }
    finally {
        $Background.Shell.Dispose()
        $Background.Runspace.Dispose()
    }
}

<#
.SYNOPSIS
    Runs -Command in a fresh pwsh with the module imported, as uid/gid 65534 (nobody) with no groups, and returns
    its output lines. The pwsh tool and the module are staged in a world-readable temporary directory first: a
    checkout or a NuGet folder under a 0700 home directory cannot be reached by another user. Needs root and setpriv.
#>
function Invoke-PwshAsNobody([string] $Command) {
    $stage = Join-Path ([IO.Path]::GetTempPath()) ('epolltools-nobody-' + [Guid]::NewGuid().ToString('N'))
    try {
        $module = Join-Path $stage 'EpollTools'
        $homeDir = Join-Path $stage 'home'
        $null = New-Item -ItemType Directory -Path $module, $homeDir
        Copy-Item -Recurse -Path $PSHOME -Destination (Join-Path $stage 'pwsh')
        Copy-Item -Recurse -Path (Join-Path $repoRoot 'EpollTools.psd1'), (Join-Path $repoRoot 'module'), (Join-Path $repoRoot 'en-US') -Destination $module
        & chmod -R 'a+rX' $stage
        & chown 65534:65534 $homeDir
        $script = "Import-Module '$(Join-Path $module 'EpollTools.psd1')'; $Command"
        $pwsh = Join-Path $stage 'pwsh' 'pwsh.dll'
        & setpriv --reuid=65534 --regid=65534 --clear-groups -- env "HOME=$homeDir" "DOTNET_CLI_HOME=$homeDir" dotnet $pwsh -NoProfile -NonInteractive -Command $script 2>&1 |
            ForEach-Object { "$_" }
    }
    finally {
        Remove-Item -Recurse -Force -LiteralPath $stage -ErrorAction SilentlyContinue
    }
}

<#
.SYNOPSIS
    Why a test file that loads an eBPF program cannot run here (no bpftrace, not root, no tracefs), or nothing when it
    can: its Describe is skipped with the reason said, and the totals count it as skipped.
#>
function Get-BpfObstacle {
    if (-not (Get-Command bpftrace -ErrorAction Ignore)) { 'no bpftrace (Debian''s bpftrace; .ci/run installs it)' }
    elseif ([Environment]::UserName -ne 'root') { 'loading an eBPF program needs root' }
    elseif (-not [IO.Directory]::Exists('/sys/kernel/tracing/events/syscalls')) { 'tracefs is not mounted (.ci/run mounts it)' }
}

Export-ModuleMember -Function Get-BpfObstacle, Import-EpollTools, New-LoopbackConnection, New-WorkDirectory, Get-ModuleKindFd, Assert-NoFdLeak, Build-Fixture, Start-Helper, Start-Fixture, Stop-Helper,
    Wait-Until, Start-BackgroundCommand, Stop-BackgroundCommand, Invoke-PwshAsNobody
