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
public sealed class GetEpollInterestCommand : ProcessSelectionCommandBase
{
    /// <summary>What was asked for, per pipeline object: a process and one of its epoll fds, or all of them (null).</summary>
    private readonly List<(int Pid, int? EpollFd)> _requests = new();

    /// <summary>
    /// Only this epoll fd (of each selected process). Binds by property name, so Get-MultiplexerWait's epoll waits pipe
    /// into their own interest lists.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateFdNumberOrNull]
    public int? EpollFd { get; set; }

    /// <summary>
    /// Also reads what is ready on each registered file now (ReadyEvents): each is copied with pidfd_getfd, polled
    /// with a zero timeout and closed. Needs ptrace attach access to the process.
    /// </summary>
    [Parameter]
    public SwitchParameter Readiness { get; set; }

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

    protected override void EndProcessing()
    {
        if (NoProcessCameDownThePipeline(_requests.Count))
        {
            return;
        }

        try
        {
            using var probe = Readiness ? new ReadinessProbe() : null;
            Scan(probe);
        }
        catch (LinuxErrorException e)
        {
            // The fd limit: every further /proc read would fail the same way, so the call ends here.
            ThrowTerminatingError(ErrorRecords.ForException(e, null));
        }
        catch (ReadinessNotSupportedException e)
        {
            ThrowTerminatingError(ErrorRecords.Usage("ReadinessNotSupported", ErrorCategory.NotImplemented, null, e.Message,
                "Leave out -Readiness: the interest lists themselves are read on any kernel."));
        }
    }

    private void Scan(ReadinessProbe? probe)
    {
        var requests = ExplicitIds && _requests.Count > 0
            ? Distinct(_requests)
            : SelectedPids(Array.Empty<int>()).Select(pid => (pid, EpollFd)).ToList();

        var scanner = new EpollInterestScanner(WriteVerbose);
        var records = new List<EpollFdRecord>();
        bool oneProcessAsked = requests.Select(r => r.Item1).Distinct().Count() == 1;
        ForEachProcess(requests, request => request.Item1, request =>
        {
            var (pid, epollFd) = request;
            var found = scanner.FindInstances(pid, epollFd, out string name);
            if (found.Count == 0)
            {
                ReportNoEpollFd(pid, name, epollFd, ExplicitIds && oneProcessAsked);
            }

            records.AddRange(found);
        });

        ScanInstances(scanner, records, probe);
        foreach (int pid in probe?.DeniedPids ?? Array.Empty<int>())
        {
            WriteError(ErrorRecords.Usage("ReadinessAccessDenied", ErrorCategory.PermissionDenied, pid,
                $"Cannot read what is ready in process {pid} ({ProcFs.ReadComm(pid) ?? "?"}): copying its fds with pidfd_getfd needs ptrace attach access to it. Its registrations are listed without ReadyEvents.",
                "Run as root or with CAP_SYS_PTRACE; as the same user, kernel.yama.ptrace_scope must be 0 (at 1, only a parent may attach)."));
        }
    }

    private void ScanInstances(EpollInterestScanner scanner, List<EpollFdRecord> records, ReadinessProbe? probe)
    {
        var instances = EpollInterestScanner.GroupSharedInstances(records);
        var sharedTargets = EpollInterestScanner.FindSharedTargets(instances);
        foreach (var instance in instances)
        {
            try
            {
                foreach (var interest in scanner.Expand(instance, probe, sharedTargets))
                {
                    WriteObject(probe is null ? interest : WithReadinessView(interest));
                }
            }
            catch (Exception e) when (e is ProcessGoneException or ProcessAccessDeniedException)
            {
                ProcessSelection.ReportFailure(this, e, instance[0].Pid, ExplicitIds);
            }
        }
    }

    /// <summary>The object with the type name that selects the view with a Ready column (as Get-Process -IncludeUserName does).</summary>
    private static PSObject WithReadinessView(EpollInterest interest)
    {
        var wrapped = PSObject.AsPSObject(interest);
        wrapped.TypeNames.Insert(0, typeof(EpollInterest).FullName + "#Readiness");
        return wrapped;
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
