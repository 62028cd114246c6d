using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Commands;

/// <summary>How the processes of a call were chosen: decided once per call (<see cref="ProcessSelectionCommandBase.Mode"/>).</summary>
public enum ProcessSelectionMode
{
    /// <summary>No -Id and no input: this process, the default of -Id.</summary>
    ThisProcess,

    /// <summary>-Id, or ids from the pipeline: each was asked for, so each failure is an error.</summary>
    Ids,

    /// <summary>-Name: the processes whose names match; one that cannot be read is skipped.</summary>
    Names,

    /// <summary>-All: every process; one that cannot be read is skipped.</summary>
    All,

    /// <summary>No process named, and the question is about the host (Get-EpollInterest -Target): every process, as -All.</summary>
    HostSearch,
}

/// <summary>
/// -Id / -Name / -All for the cmdlets that read other processes from /proc, and what they do alike: piped input
/// that binds no process reads nothing, a process named with -Id that is gone or unreadable is an error, and under
/// -Name and -All it is skipped, the unreadable ones named in one warning.
/// </summary>
public abstract class ProcessSelectionCommandBase : PSCmdlet, IDisposable
{
    /// <summary>Cancelled by Ctrl+C (or a pipeline that stops): ends a settle interval or a trace at once.</summary>
    private readonly CancellationTokenSource _stop = new();

    protected const string IdSet = "Id";
    protected const string NameSet = "Name";
    protected const string AllSet = "All";

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

    /// <summary>Set when the call is stopped (Ctrl+C): long reads and waits end at once.</summary>
    protected CancellationToken StopToken => _stop.Token;

    /// <summary>
    /// How this call's processes were chosen, decided once from the parameter set, the parameters bound and the
    /// pipeline: every other choice (errors or skips, the default process, the host) follows from it.
    /// </summary>
    protected ProcessSelectionMode Mode => _mode ??= ParameterSetName switch
    {
        AllSet => ProcessSelectionMode.All,
        NameSet => ProcessSelectionMode.Names,
        _ when MyInvocation.BoundParameters.ContainsKey(nameof(Id)) || MyInvocation.ExpectingInput => ProcessSelectionMode.Ids,
        _ when SearchesHostWhenNoneNamed => ProcessSelectionMode.HostSearch,
        _ => ProcessSelectionMode.ThisProcess,
    };

    /// <summary>Whether a call that names no process is about the whole host (Get-EpollInterest -Target), not this process.</summary>
    protected virtual bool SearchesHostWhenNoneNamed => false;

    /// <summary>Whether processes were named one by one (-Id, the pipeline, or this process by default): then each failure is an error, not a skip.</summary>
    protected bool ExplicitIds => Mode is ProcessSelectionMode.Ids or ProcessSelectionMode.ThisProcess;

    /// <summary>Whether every process of the host is read.</summary>
    protected bool ReadsWholeHost => Mode is ProcessSelectionMode.All or ProcessSelectionMode.HostSearch;

    private ProcessSelectionMode? _mode;

    /// <summary>
    /// Piped input that bound no process (Get-Process nosuch -ErrorAction Ignore | Get-...) means no process, not
    /// this one: the default applies only to a call with no input at all.
    /// </summary>
    protected bool NoProcessCameDownThePipeline(int idsBound)
    {
        if (Mode == ProcessSelectionMode.Ids && idsBound == 0 && MyInvocation.ExpectingInput)
        {
            WriteVerbose("No process id came down the pipeline: nothing to read.");
            return true;
        }

        return false;
    }

    /// <summary>The processes selected: the ids bound (each once, in order), this process, -Name's, or the host's.</summary>
    protected List<int> SelectedPids(IEnumerable<int> idsBound) => Mode switch
    {
        ProcessSelectionMode.All or ProcessSelectionMode.HostSearch => ProcFs.ListPids(),
        ProcessSelectionMode.Names => ProcessSelection.ByName(this, Name),
        ProcessSelectionMode.Ids => idsBound.Distinct().ToList(),
        _ => new List<int> { Environment.ProcessId },
    };

    /// <summary>
    /// Reads each item (a process, or a process and something of it) with <paramref name="read"/>, reporting the
    /// processes that are gone or unreadable as <see cref="ProcessSelection.ReportFailure"/> does, and those skipped
    /// as unreadable under -Name and -All in one warning at the end.
    /// </summary>
    /// <param name="what">What <paramref name="read"/> reads of a process, for the messages about a refusal.</param>
    internal void ForEachProcess<T>(IEnumerable<T> items, Func<T, int> pidOf, Action<T> read, ProcessRead what = ProcessRead.Fds)
    {
        var unreadable = new List<int>();
        foreach (var item in items)
        {
            if (Stopping)
            {
                return;
            }

            int pid = pidOf(item);
            try
            {
                read(item);
            }
            catch (ProcessUnreadableException e)
            {
                if (e is ProcessAccessDeniedException && !ExplicitIds)
                {
                    unreadable.Add(pid);
                }

                ProcessSelection.ReportFailure(this, e, pid, ExplicitIds, what);
            }
        }

        if (unreadable.Count > 0)
        {
            WriteWarning(ProcessSelection.UnreadableWarning(unreadable, what));
        }
    }

    protected override void StopProcessing() => _stop.Cancel();

    public void Dispose()
    {
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
