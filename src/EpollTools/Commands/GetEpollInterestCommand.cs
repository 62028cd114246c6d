using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
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
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Process names (comm), wildcards allowed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = NameSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
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
        bool explicitIds = ParameterSetName == IdSet;
        List<int> pids = ParameterSetName switch
        {
            AllSet => ProcFs.ListPids(),
            NameSet => ProcessSelection.ByName(this, Name),
            _ => _ids.Count > 0 ? _ids.Distinct().ToList() : new List<int> { Environment.ProcessId },
        };

        var scanner = new EpollInterestScanner(WriteVerbose);
        var records = new List<EpollFdRecord>();
        int skipped = 0;
        foreach (int pid in pids)
        {
            try
            {
                var found = scanner.FindInstances(pid, EpollFd);
                if (found.Count == 0 && explicitIds && EpollFd is int wanted)
                {
                    WriteError(ErrorRecords.Usage("EpollFdNotFound", ErrorCategory.ObjectNotFound, wanted,
                        $"Process {pid} has no epoll fd {wanted}.", $"List its epoll fds with: Get-FdInfo -Id {pid} | Where-Object Type -eq Epoll"));
                }

                records.AddRange(found);
            }
            catch (Exception e) when (e is ProcessGoneException or ProcessAccessDeniedException)
            {
                skipped += e is ProcessAccessDeniedException ? 1 : 0;
                ProcessSelection.ReportFailure(this, e, pid, explicitIds);
            }
        }

        if (skipped > 0 && !explicitIds)
        {
            WriteWarning($"{skipped} processes could not be read (ptrace read access is needed); run as root to see them all.");
        }

        foreach (var instance in EpollInterestScanner.GroupSharedInstances(records))
        {
            foreach (var interest in scanner.Expand(instance))
            {
                WriteObject(interest);
            }
        }
    }
}
