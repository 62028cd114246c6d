using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Commands;

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

    /// <summary>Whether processes were named with -Id: then each failure is an error, not a skip.</summary>
    protected virtual bool ExplicitIds => ParameterSetName == IdSet;

    /// <summary>
    /// Piped input that bound no process (Get-Process nosuch -ErrorAction Ignore | Get-...) means no process, not
    /// this one: the default applies only to a call with no input at all.
    /// </summary>
    protected bool NoProcessCameDownThePipeline(int idsBound)
    {
        if (ExplicitIds && idsBound == 0 && MyInvocation.ExpectingInput)
        {
            WriteVerbose("No process id came down the pipeline: nothing to read.");
            return true;
        }

        return false;
    }

    /// <summary>The processes selected: the ids bound (each once, in order; this process if none), -Name's or -All's.</summary>
    protected List<int> SelectedPids(IEnumerable<int> idsBound) => ParameterSetName switch
    {
        AllSet => ProcFs.ListPids(),
        NameSet => ProcessSelection.ByName(this, Name),
        _ => idsBound.Distinct().DefaultIfEmpty(Environment.ProcessId).ToList(),
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
