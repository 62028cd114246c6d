using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Proc;

namespace EpollTools.Commands;

/// <summary>Get-EpollInterest: the epoll interest lists of processes, from /proc, flags decoded and targets resolved.</summary>
[Cmdlet(VerbsCommon.Get, "EpollInterest", DefaultParameterSetName = IdSet)]
[OutputType(typeof(EpollInterest))]
public sealed class GetEpollInterestCommand : PSCmdlet
{
    private const string IdSet = "Id";
    private const string NameSet = "Name";
    private const string AllSet = "All";

    private readonly List<int> _ids = new();

    /// <summary>Process ids; Get-Process objects bind by their Id property. Default: this process.</summary>
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

    /// <summary>Only this epoll fd (of each selected process).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? EpollFd { get; set; }

    protected override void ProcessRecord()
    {
        if (Id is not null)
        {
            _ids.AddRange(Id);
        }
    }

    protected override void EndProcessing()
    {
        // Piped input that bound no process (Get-Process nosuch -ErrorAction Ignore | Get-EpollInterest) means no
        // process, not this one: the default applies only to a call with no input at all.
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
            // The fd limit: every further /proc read would fail the same way, so the call ends here.
            ThrowTerminatingError(ErrorRecords.ForException(e, null));
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

        var scanner = new EpollInterestScanner(WriteVerbose);
        var records = new List<EpollFdRecord>();
        var unreadable = new List<int>();
        foreach (int pid in pids)
        {
            try
            {
                var found = scanner.FindInstances(pid, EpollFd, out string name);
                if (found.Count == 0)
                {
                    ReportNoEpollFd(pid, name, explicitIds && pids.Count == 1);
                }

                records.AddRange(found);
            }
            catch (Exception e) when (e is ProcessGoneException or ProcessAccessDeniedException)
            {
                if (e is ProcessAccessDeniedException && !explicitIds)
                {
                    unreadable.Add(pid);
                }

                ProcessSelection.ReportFailure(this, e, pid, explicitIds);
            }
        }

        if (unreadable.Count > 0)
        {
            WriteWarning(ProcessSelection.UnreadableWarning(unreadable));
        }

        foreach (var instance in EpollInterestScanner.GroupSharedInstances(records))
        {
            try
            {
                foreach (var interest in scanner.Expand(instance))
                {
                    WriteObject(interest);
                }
            }
            catch (Exception e) when (e is ProcessGoneException or ProcessAccessDeniedException)
            {
                ProcessSelection.ReportFailure(this, e, instance[0].Pid, explicitIds);
            }
        }
    }

    /// <summary>
    /// A process with no epoll fd (or not the one asked for) says so: an error for a missing -EpollFd, a warning when
    /// it is the one process asked for (an empty answer alone would look like a failure), else a verbose line.
    /// </summary>
    private void ReportNoEpollFd(int pid, string name, bool onlyProcessAsked)
    {
        if (EpollFd is int wanted)
        {
            if (ParameterSetName == IdSet)
            {
                WriteError(ErrorRecords.Usage("EpollFdNotFound", ErrorCategory.ObjectNotFound, wanted,
                    $"Process {pid} ({name}) has no epoll fd {wanted}.", $"List its epoll fds with: Get-FdInfo -Id {pid} | Where-Object Type -eq Epoll"));
            }
            else
            {
                WriteVerbose($"Process {pid} ({name}) has no epoll fd {wanted}.");
            }

            return;
        }

        string message = $"Process {pid} ({name}) has no epoll fd: it does not wait through epoll (it may use poll or select, or block in a read). Get-FdInfo -Id {pid} lists its fds.";
        if (onlyProcessAsked)
        {
            WriteWarning(message);
        }
        else
        {
            WriteVerbose(message);
        }
    }
}
