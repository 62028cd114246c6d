using System;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;

namespace EpollTools.Commands;

/// <summary>Get-EpollInterest: the epoll interest lists of processes, from /proc, flags decoded and targets resolved.</summary>
[Cmdlet(VerbsCommon.Get, "EpollInterest", DefaultParameterSetName = IdSet)]
[OutputType(typeof(EpollInterest), typeof(PortWatch))]
public sealed class GetEpollInterestCommand : EpollInstanceSelectionCommandBase
{
    /// <summary>
    /// Also reads what is ready on each registered file now (ReadyEvents): each is copied with pidfd_getfd, polled
    /// with a zero timeout and closed. Needs ptrace attach access to the process.
    /// </summary>
    [Parameter]
    public SwitchParameter Readiness { get; set; }

    /// <summary>
    /// With -Readiness: milliseconds to wait before confirming what is ready with a second read (0: one read). A
    /// diagnosis drawn from readiness stands only if it holds again then, with a thread blocked in the instance's
    /// wait all along.
    /// </summary>
    [Parameter]
    [ValidateRange(0, 60000)]
    public int SettleInterval { get; set; } = DiagnosisConfirmation.DefaultSettleMilliseconds;

    /// <summary>
    /// Lists the interest list as fdinfo has it (mask, data, inode and device), without reading anything per
    /// registration: no target resolved, no state judged. The cheap view of a huge instance, as ss -n and lsof -n.
    /// </summary>
    [Parameter]
    public SwitchParameter NoResolve { get; set; }

    /// <summary>
    /// Only the registrations of these files, in every instance that has one ("who watches this?"): pid:fd,
    /// socket:[inode], pipe:[inode] or a path, the module's fd objects, Get-FdInfo rows, or EpollInterest rows.
    /// Without -Id or -Name, every process is searched.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public object[]? Target { get; set; }

    /// <summary>Only the registrations of TCP and UDP sockets with one of these local ports. Without -Id or -Name, every process is searched.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, 65535)]
    [ArgumentCompleter(typeof(LocalPortCompleter))]
    public int[]? TargetPort { get; set; }

    /// <summary>
    /// With -TargetPort: one row per registered socket, instead of one PortWatch per instance and port that counts
    /// them (listeners, connections by state, queued bytes, diagnoses summed up).
    /// </summary>
    [Parameter]
    public SwitchParameter PerConnection { get; set; }

    /// <summary>-Target or -TargetPort with no process named: the whole host is searched, as with -All.</summary>
    protected override bool SearchesHostWhenNoneNamed => Target is not null || TargetPort is not null;

    protected override void BeginProcessing()
    {
        if (Readiness && NoResolve)
        {
            ThrowTerminatingError(ErrorRecords.Usage("ReadinessNeedsResolution", ErrorCategory.InvalidArgument, null,
                "-Readiness and -NoResolve cannot be used together: what is ready is read from each registered file, which -NoResolve leaves alone.",
                "Leave out -NoResolve to read readiness, or -Readiness for the cheap view."));
        }
    }

    protected override void EndProcessing()
    {
        if (NothingCameDownThePipeline())
        {
            return;
        }

        try
        {
            var query = new EpollInterestQuery(WriteVerbose);
            var only = Target is null && TargetPort is null ? null : BuildMatcher(query.Resolver);
            if (only?.IsEmpty == true)
            {
                return; // every target failed, and said why: searching for nothing would list everything
            }

            var request = new InterestRequest
            {
                Processes = RequestedProcesses(),
                NamedExplicitly = ExplicitIds,
                WholeHost = ReadsWholeHost,
                Readiness = Readiness,
                SettleMilliseconds = SettleInterval,
                NoResolve = NoResolve,
                Only = only,
                SummarizePorts = TargetPort is not null && !PerConnection ? TargetPort.ToHashSet() : null,
            };
            foreach (var result in query.Run(request, StopToken))
            {
                Write(result);
            }
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

    private void Write(InterestResult result)
    {
        switch (result)
        {
            case InterestResult.Row(var interest, var view):
                WriteObject(view == InterestView.Registrations ? interest : WithView(interest, view == InterestView.Readiness ? "Readiness" : "Watcher"));
                break;
            case InterestResult.Watch(var watch):
                WriteObject(watch);
                break;
            case InterestResult.Unwatched unwatched:
                // A file asked for that exists but that no epoll instance read registers: said, never silence (a
                // connection an event loop stopped watching, with data waiting, is what an operator looks for).
                string scope = unwatched.WholeHost ? "on this host" : "of the processes read";
                string what = unwatched.Port is int number ? $"a TCP or UDP socket on local port {number}" : unwatched.Target?.ToString() ?? "?";
                WriteError(ErrorRecords.Usage("TargetNotWatched", ErrorCategory.ObjectNotFound, (object?)unwatched.Target ?? unwatched.Port,
                    $"No epoll instance {scope} watches {what}{unwatched.Detail}.",
                    "A connection nobody watches is read by nobody: the program stopped watching it (flow control, a paused reader) or lost it. Get-MultiplexerWait shows whether a poll or select waits on it; Get-FdInfo -Id <pid> lists the process's fds."));
                break;
            case InterestResult.ReadinessDenied(int pid):
                WriteError(ErrorRecords.Usage("ReadinessAccessDenied", ErrorCategory.PermissionDenied, pid,
                    $"Cannot read what is ready in process {pid} ({ProcFs.ReadComm(pid) ?? "?"}): copying its fds with pidfd_getfd needs ptrace attach access to it. Its registrations are listed without ReadyEvents.",
                    "Run as root or with CAP_SYS_PTRACE; as the same user, kernel.yama.ptrace_scope must be 0 (at 1, only a parent may attach)."));
                break;
            default:
                WriteProcessResult(result);
                break;
        }
    }

    /// <summary>
    /// The object with a type name that selects another view (as Get-Process -IncludeUserName does): "Readiness" has a
    /// Ready column, "Watcher" groups the instances that watch one file.
    /// </summary>
    private static PSObject WithView(EpollInterest interest, string view)
    {
        var wrapped = PSObject.AsPSObject(interest);
        wrapped.TypeNames.Insert(0, typeof(EpollInterest).FullName + "#" + view);
        return wrapped;
    }

    /// <summary>
    /// The files -Target and -TargetPort name, each checked now: one that names nothing (a closed fd, a missing path,
    /// an object that is no file) is a non-terminating error, and the search goes on with the others.
    /// </summary>
    private TargetMatcher BuildMatcher(TargetResolver resolver)
    {
        var matcher = new TargetMatcher(resolver);
        if (TargetPort is not null)
        {
            matcher.AddPorts(TargetPort);
        }

        foreach (object item in Target ?? Array.Empty<object>())
        {
            foreach (var spec in TargetArgument.ToSpecs(this, item))
            {
                try
                {
                    matcher.Add(spec);
                }
                catch (TargetNotFoundException e)
                {
                    WriteError(ErrorRecords.Usage("TargetNotFound", ErrorCategory.ObjectNotFound, item, e.Message,
                        "Check the fd with Get-FdInfo -Id <pid>, or the path with Test-Path; a file closed everywhere is no longer registered anywhere."));
                }
                catch (ProcessUnreadableException e)
                {
                    ProcessSelection.ReportFailure(this, e, ((TargetSpec.ProcessFd)spec).Pid, explicitlyNamed: true);
                }
            }
        }

        return matcher;
    }


}
