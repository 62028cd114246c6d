using System;
using System.Collections.Generic;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;

namespace EpollTools.Commands;

/// <summary>Get-FdInfo: every fd of a process, its type and target, and every field of its /proc fdinfo.</summary>
[Cmdlet(VerbsCommon.Get, "FdInfo")]
[OutputType(typeof(FdInfo))]
public sealed class GetFdInfoCommand : PSCmdlet
{
    private TargetResolver? _resolver;

    /// <summary>Process ids; Get-Process objects bind by their Id property. Default: this process.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Pid", "ProcessId")]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Only these fds.</summary>
    [Parameter(Position = 1)]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Fd { get; set; }

    /// <summary>
    /// Only the sockets and pipes that nothing of the process watches: registered in none of its epoll instances,
    /// waited on by none of its poll or select calls. Their targets say what waits in them.
    /// </summary>
    [Parameter]
    public SwitchParameter Unwatched { get; set; }

    protected override void BeginProcessing() => _resolver = new TargetResolver();

    protected override void ProcessRecord()
    {
        foreach (int pid in Id ?? new[] { Environment.ProcessId })
        {
            try
            {
                Describe(pid);
            }
            catch (ProcessUnreadableException e)
            {
                ProcessSelection.ReportFailure(this, e, pid, explicitlyNamed: true);
            }
            catch (LinuxErrorException e)
            {
                // The fd limit: every further /proc read would fail the same way, so the call ends here.
                ThrowTerminatingError(ErrorRecords.ForException(e, pid));
            }
        }
    }

    private void Describe(int pid)
    {
        string name = ProcFs.ReadComm(pid) ?? throw new ProcessGoneException(pid);
        var wanted = Fd is null ? null : new HashSet<int>(Fd);
        var fds = FdFiles.List(pid);
        var watched = Unwatched ? WatchedFiles.Of(pid, fds) : null;
        foreach (var (fd, link) in fds)
        {
            if (wanted is not null && !wanted.Remove(fd))
            {
                continue;
            }

            if (watched is not null && (FdEntry.ParseLink(link) is not { } file || watched.Contains(file)))
            {
                continue; // not a socket or pipe, or watched
            }

            string? text = FdFiles.ReadInfo(pid, fd);
            if (text is null)
            {
                WriteVerbose($"Process {pid}: fd {fd} was closed while it was read; skipped.");
                continue;
            }

            WriteObject(FdInfo.Create(pid, name, fd, link, _resolver!.Resolve(pid, fd, link), text));
        }

        foreach (int missing in wanted ?? new HashSet<int>())
        {
            WriteError(ErrorRecords.Usage("FdNotFound", ErrorCategory.ObjectNotFound, missing,
                $"Process {pid} has no fd {missing}.", $"List its fds with: Get-FdInfo -Id {pid}"));
        }
    }
}
