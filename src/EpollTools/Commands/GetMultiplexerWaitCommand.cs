using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Proc;

namespace EpollTools.Commands;

/// <summary>
/// Get-MultiplexerWait: the threads blocked in epoll_wait, epoll_pwait, epoll_pwait2, poll, ppoll, select or pselect6,
/// with their decoded arguments, from /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall and the process's memory.
/// </summary>
[Cmdlet(VerbsCommon.Get, "MultiplexerWait", DefaultParameterSetName = IdSet)]
[OutputType(typeof(MultiplexerWait))]
public sealed class GetMultiplexerWaitCommand : PSCmdlet
{
    private const string IdSet = "Id";
    private const string NameSet = "Name";
    private const string AllSet = "All";

    private readonly List<int> _ids = new();

    /// <summary>Process ids; Get-Process and Get-EpollInterest objects bind by their Id / ProcessId. Default: this process.</summary>
    [Parameter(Position = 0, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Pid", "ProcessId")]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Process names (comm), wildcards allowed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NameSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProcessNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Every process on the host that can be read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    /// <summary>Lists every thread, running or in any system call, not only those in a multiplexing wait.</summary>
    [Parameter]
    public SwitchParameter IncludeAllThreads { get; set; }

    protected override void ProcessRecord()
    {
        if (Id is not null)
        {
            _ids.AddRange(Id);
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == IdSet && _ids.Count == 0 && MyInvocation.ExpectingInput)
        {
            WriteVerbose("No process id came down the pipeline: nothing to read.");
            return;
        }

        try
        {
            Scan();
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null)); // the fd limit: every further read would fail too
        }
    }

    private void Scan()
    {
        bool explicitIds = ParameterSetName == IdSet;
        List<int> pids = ParameterSetName switch
        {
            AllSet => ProcFs.ListPids(),
            NameSet => ProcessSelection.ByName(this, Name),
            _ => _ids.Count > 0 ? _ids.Distinct().ToList() : new List<int> { Environment.ProcessId },
        };

        var scanner = new MultiplexerWaitScanner();
        var unreadable = new List<int>();
        foreach (int pid in pids)
        {
            if (Stopping)
            {
                return;
            }

            try
            {
                var waits = scanner.Scan(pid, IncludeAllThreads);
                if (waits.Count == 0 && explicitIds && pids.Count == 1)
                {
                    WriteWarning($"No thread of process {pid} ({ProcFs.ReadComm(pid) ?? "?"}) is in epoll_wait, poll or select now: " +
                        "they run, or block elsewhere (a read, a lock, a sleep). -IncludeAllThreads lists every thread with its system call.");
                }

                WriteObject(waits, enumerateCollection: true);
            }
            catch (Exception e) when (e is ProcessGoneException or ProcessAccessDeniedException)
            {
                if (e is ProcessAccessDeniedException && !explicitIds)
                {
                    unreadable.Add(pid);
                }

                ProcessSelection.ReportFailure(this, e, pid, explicitIds,
                    $"reading its threads' system calls (/proc/{pid}/task/*/syscall) needs ptrace attach access to it");
            }
        }

        if (unreadable.Count > 0)
        {
            WriteWarning(ProcessSelection.UnreadableWarning(unreadable, "threads"));
        }
    }
}
