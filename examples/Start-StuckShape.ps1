<#
.SYNOPSIS
    Starts a process stuck in one of the shapes that docs/debugging-a-stuck-process.md walks through, to practise on.

.DESCRIPTION
    Builds examples/stuck-shapes.c (or, for the shapes of processes waiting on each other, examples/wait-chains.c)
    with gcc on first use (into the temporary directory), starts it in the given shape,
    waits until its threads are blocked, and returns an object with the process id (Pid), each fd and port the
    program printed (EpollFd, EventFd, Socket, Port...), the Process, a Stop() method that ends it (once;
    Stopped says whether it was called), and Suspend() and Resume(), which send it SIGSTOP (and wait until it has
    stopped) and SIGCONT.

.EXAMPLE
    $app = ./examples/Start-StuckShape.ps1 oneshot
    Get-MultiplexerWait -Id $app.Pid
    $app.Stop()
#>
[CmdletBinding()]
param(
    # The shape: oneshot, edge, writer-gone, readers-gone, closed-fd, empty, herd, forked-herd, exclusive-mix,
    # poll-socket, unwatched or spinner (one process, stuck-shapes.c); chain, deadlock, ring, self-held, eventfd or wakeup
    # (processes waiting on each other, wait-chains.c).
    [Parameter(Mandatory, Position = 0)]
    [ValidateSet('oneshot', 'edge', 'writer-gone', 'readers-gone', 'closed-fd', 'empty', 'herd', 'forked-herd', 'exclusive-mix', 'poll-socket', 'unwatched', 'spinner',
        'chain', 'deadlock', 'ring', 'self-held', 'eventfd', 'wakeup')]
    [string] $Shape
)

$ErrorActionPreference = 'Stop'
$programName = if ($Shape -in 'chain', 'deadlock', 'ring', 'self-held', 'eventfd', 'wakeup') { 'wait-chains' } else { 'stuck-shapes' }
$source = Join-Path $PSScriptRoot "$programName.c"
# One build per version of the source, shared by every shape and session.
$hash = (Get-FileHash -LiteralPath $source -Algorithm SHA256).Hash.Substring(0, 16)
$directory = Join-Path ([IO.Path]::GetTempPath()) "epolltools-$programName-$hash"
$program = Join-Path $directory $programName   # the process name the cmdlets show
if (-not (Test-Path -LiteralPath $program)) {
    $null = New-Item -ItemType Directory -Force -Path $directory
    if (-not (Get-Command gcc -ErrorAction Ignore)) {
        throw "Building examples/$programName.c needs gcc (on Debian: apt-get install gcc)."
    }

    $building = "$program.$PID"
    $output = & gcc -O2 -Wall -o $building $source -lpthread 2>&1
    if ($LASTEXITCODE -ne 0) { throw "gcc could not build $source`: $output" }
    Move-Item -LiteralPath $building -Destination $program -Force
}

$info = [Diagnostics.ProcessStartInfo]::new($program, $Shape)
$info.RedirectStandardInput = $true
$info.RedirectStandardOutput = $true
$info.UseShellExecute = $false
$process = [Diagnostics.Process]::Start($info)

# "name value" lines, then "ready": epoll_exclusive_1 becomes EpollExclusive1, pid becomes Pid, epoll becomes EpollFd.
$result = [ordered]@{ Shape = $Shape }
while (($line = $process.StandardOutput.ReadLine()) -ne 'ready') {
    if ($null -eq $line) { throw "$programName $Shape ended before it was ready." }
    $name, $value = $line.Split(' ', 2)
    $property = -join ($name.Split('_') | ForEach-Object { $_.Substring(0, 1).ToUpperInvariant() + $_.Substring(1) })
    if ($property -eq 'Epoll') { $property = 'EpollFd' }
    if ($property -eq 'Eventfd') { $property = 'EventFd' }
    $result[$property] = [int] $value
}

$result.Process = $process
$app = [pscustomobject] $result
$app | Add-Member -MemberType NoteProperty -Name Stopped -Value $false
$app | Add-Member -MemberType ScriptMethod -Name Suspend -Value {
    # What `kill -STOP <pid>` does, then waits until every thread has stopped (state T in /proc/<pid>/task/*/stat).
    & kill -s STOP $this.Pid
    $tasks = [IO.Directory]::GetDirectories("/proc/$($this.Pid)/task")
    $deadline = [DateTime]::UtcNow.AddSeconds(5)
    while ([DateTime]::UtcNow -lt $deadline -and @($tasks | Where-Object {
                $stat = [IO.File]::ReadAllText("$_/stat"); $stat[$stat.LastIndexOf(')') + 2] -cne 'T' }).Count -gt 0) {
        Start-Sleep -Milliseconds 10
    }
}
$app | Add-Member -MemberType ScriptMethod -Name Resume -Value {
    # What `kill -CONT <pid>` does.
    & kill -s CONT $this.Pid
}
$app | Add-Member -MemberType ScriptMethod -Name Stop -Value {
    # Closing its standard input ends it (resumed first, if it was suspended); a process that does not end within
    # five seconds is killed.
    if ($this.Stopped) { return }
    $this.Stopped = $true
    & kill -s CONT $this.Pid
    $this.Process.StandardInput.Close()
    if (-not $this.Process.WaitForExit(5000)) { $this.Process.Kill() }
    $this.Process.StandardOutput.Dispose()
    $this.Process.Dispose()
}
$app
