using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core.Interest;
using EpollTools.Core.Waits;

namespace EpollTools.Commands;

/// <summary>
/// What Get-EpollInterest and Trace-EpollInterest share: the processes (-Id/-Name/-All) and, of each, one epoll fd
/// (-EpollFd, bound by property name so that Get-MultiplexerWait's epoll waits pipe in) or all of them; found by
/// their /proc links, with a clear word for a process that has none.
/// </summary>
public abstract class EpollInstanceSelectionCommandBase : ProcessSelectionCommandBase
{
    /// <summary>What was asked for, per pipeline object: a process and one of its epoll fds, or all of them (null).</summary>
    private readonly List<(int Pid, int? EpollFd)> _requests = new();

    /// <summary>
    /// Only this epoll fd (of each selected process). Binds by property name, so Get-MultiplexerWait's epoll waits pipe
    /// into their own interest lists.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateFdNumberOrNull]
    [ArgumentCompleter(typeof(EpollFdCompleter))]
    public int? EpollFd { get; set; }

    protected override void ProcessRecord()
    {
        // A piped object that has an EpollFd property holding null (a poll or select wait) names no epoll instance.
        if (EpollFd is null && MyInvocation.BoundParameters.ContainsKey(nameof(EpollFd)))
        {
            WriteVerbose($"Skipped an input object of process {(Id is null ? "?" : string.Join(", ", Id))} with no epoll fd (a poll or select wait).");
            return;
        }

        if (Id is not null)
        {
            foreach (int id in Id)
            {
                _requests.Add((id, EpollFd));
            }
        }
    }

    /// <summary>Piped input that bound no process: nothing to read (see <see cref="ProcessSelectionCommandBase.NoProcessCameDownThePipeline"/>).</summary>
    protected bool NothingCameDownThePipeline() => NoProcessCameDownThePipeline(_requests.Count);

    /// <summary>The processes to read, each with the epoll fd asked for (null: all of them), decided once for the request.</summary>
    protected List<(int Pid, int? EpollFd)> RequestedProcesses()
        => Mode == ProcessSelectionMode.Ids ? Distinct(_requests) : SelectedPids(Array.Empty<int>()).Select(pid => (pid, EpollFd)).ToList();

    /// <summary>
    /// Writes what the query says of the processes themselves: a refusal as <see cref="ProcessSelection.ReportFailure"/>
    /// does, the processes skipped under -Name and -All in one warning, and a process with no epoll fd in the words
    /// that fit. Other results are not this class's and are left to the caller (false).
    /// </summary>
    protected bool WriteProcessResult(InterestResult result)
    {
        switch (result)
        {
            case InterestResult.Refused(int pid, var reason):
                ProcessSelection.ReportFailure(this, reason, pid, ExplicitIds);
                return true;
            case InterestResult.Skipped(var pids):
                WriteWarning(ProcessSelection.UnreadableWarning(pids));
                return true;
            case InterestResult.NoEpollFd none:
                ReportNoEpollFd(none.Pid, none.ProcessName, none.EpollFd, none.OnlyProcessAsked);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Each process once, in the order asked, with the epoll fds asked for it; a request for all of a process's epoll
    /// fds covers the requests for single ones.
    /// </summary>
    private static List<(int, int?)> Distinct(List<(int Pid, int? EpollFd)> requests)
    {
        var everything = requests.Where(r => r.EpollFd is null).Select(r => r.Pid).ToHashSet();
        return requests.Where(r => r.EpollFd is null || !everything.Contains(r.Pid)).Distinct().Select(r => (r.Pid, r.EpollFd)).ToList();
    }

    /// <summary>
    /// A process with no epoll fd (or not the one asked for) says so: an error for a missing -EpollFd, a warning when
    /// it is the one process asked for (an empty answer alone would look like a failure), else a verbose line.
    /// </summary>
    private void ReportNoEpollFd(int pid, string name, int? epollFd, bool onlyProcessAsked)
    {
        if (epollFd is int wanted)
        {
            if (ExplicitIds)
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

        string message = ProcessCondition.WhyNoWait(pid, name)
            ?? $"Process {pid} ({name}) has no epoll fd: it does not wait through epoll (it may use poll or select, or block in a read). Get-FdInfo -Id {pid} lists its fds.";
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
