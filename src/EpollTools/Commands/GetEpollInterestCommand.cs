using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;

namespace EpollTools.Commands;

/// <summary>Get-EpollInterest: the epoll interest lists of processes, from /proc, flags decoded and targets resolved.</summary>
[Cmdlet(VerbsCommon.Get, "EpollInterest", DefaultParameterSetName = IdSet)]
[OutputType(typeof(EpollInterest), typeof(PortWatch))]
public sealed class GetEpollInterestCommand : EpollInstanceSelectionCommandBase, IDisposable
{
    /// <summary>Set by Ctrl+C: ends the settle interval at once.</summary>
    private readonly System.Threading.ManualResetEventSlim _stopping = new();

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
    protected override bool SearchesHost => (Target is not null || TargetPort is not null) && ParameterSetName == IdSet
        && !MyInvocation.BoundParameters.ContainsKey(nameof(Id)) && !MyInvocation.ExpectingInput;

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
            var scanner = new EpollInterestScanner(WriteVerbose);
            var only = Target is null && TargetPort is null ? null : BuildMatcher(scanner.Resolver);
            if (only?.IsEmpty == true)
            {
                return; // every target failed, and said why: searching for nothing would list everything
            }

            using var probe = Readiness ? new ReadinessProbe() : null;
            Scan(scanner, probe, only);
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

    private void Scan(EpollInterestScanner scanner, ReadinessProbe? probe, TargetMatcher? only)
    {
        var records = FindEpollFds(scanner);
        ScanInstances(scanner, records, probe, only);
        foreach (var (target, port) in only?.Unmatched ?? Enumerable.Empty<(TargetSpec?, int?)>())
        {
            ReportUnwatched(scanner, target, port);
        }

        foreach (int pid in probe?.DeniedPids ?? Array.Empty<int>())
        {
            WriteError(ErrorRecords.Usage("ReadinessAccessDenied", ErrorCategory.PermissionDenied, pid,
                $"Cannot read what is ready in process {pid} ({ProcFs.ReadComm(pid) ?? "?"}): copying its fds with pidfd_getfd needs ptrace attach access to it. Its registrations are listed without ReadyEvents.",
                "Run as root or with CAP_SYS_PTRACE; as the same user, kernel.yama.ptrace_scope must be 0 (at 1, only a parent may attach)."));
        }
    }

    private void ScanInstances(EpollInterestScanner scanner, List<EpollFdRecord> records, ReadinessProbe? probe, TargetMatcher? only)
    {
        var instances = EpollInterestScanner.GroupSharedInstances(records);
        var sharedTargets = EpollInterestScanner.FindSharedTargets(instances);

        // The watchers of a file are written together, grouped by the file, once every instance is read: the rows
        // are few (only the files asked for), and the view groups them under each file.
        var watchers = new List<EpollInterest>();
        var options = new ExpandOptions(probe, sharedTargets, only, NoResolve);
        bool confirm = probe is not null && SettleInterval > 0;

        // An instance with a diagnosis drawn from what is ready at one moment is held back, with the threads that wait
        // on it then, and read again once after the settle interval: the others are written as they are read.
        var held = new List<(IReadOnlyList<EpollFdRecord> Instance, List<EpollInterest> Rows, List<EpollWaiterSnapshot> Waiters)>();
        void Write(EpollInterest interest)
        {
            if (only is not null)
            {
                watchers.Add(interest);
            }
            else
            {
                WriteObject(probe is null ? interest : WithView(interest, "Readiness"));
            }
        }

        foreach (var instance in instances)
        {
            try
            {
                if (!confirm)
                {
                    foreach (var interest in scanner.Expand(instance, options))
                    {
                        Write(interest);
                    }

                    continue;
                }

                var rows = scanner.Expand(instance, options).ToList();
                if (RegistrationConfirmation.NeedsConfirmation(rows))
                {
                    held.Add((instance, rows, RegistrationConfirmation.Waiters(instance)));
                }
                else
                {
                    rows.ForEach(Write);
                }
            }
            catch (ProcessUnreadableException e)
            {
                ProcessSelection.ReportFailure(this, e, instance[0].Pid, ExplicitIds);
            }
        }

        if (held.Count > 0)
        {
            if (_stopping.Wait(SettleInterval))
            {
                return; // Ctrl+C
            }

            foreach (var (instance, rows, waiters) in held)
            {
                List<EpollInterest> again;
                try
                {
                    again = scanner.Expand(instance, options).ToList();
                }
                catch (ProcessUnreadableException)
                {
                    again = new List<EpollInterest>(); // gone since: nothing confirms what was seen
                }

                RegistrationConfirmation.Confirm(rows, again, RegistrationConfirmation.AnyStillWaiting(waiters));
                rows.ForEach(Write);
            }
        }

        if (TargetPort is not null && !PerConnection)
        {
            // A port's sockets counted per instance: thousands of connections are one object. Rows of -Target files
            // in the same call, and sockets not on the ports asked for, stay rows.
            var onPorts = OnPorts(scanner, watchers, TargetPort.ToHashSet());
            foreach (var watch in PortWatches.Summarize(onPorts))
            {
                WriteObject(watch);
            }

            var counted = onPorts.Select(pair => pair.Row).ToHashSet();
            watchers.RemoveAll(counted.Contains);
        }

        foreach (var file in watchers.GroupBy(w => (w.TargetInode, w.TargetDevice)))
        {
            foreach (var interest in file)
            {
                WriteObject(WithView(interest, "Watcher"));
            }
        }
    }

    /// <summary>The rows whose socket has one of <paramref name="ports"/> as its local port, each with its socket.</summary>
    private static List<(EpollInterest Row, SocketEntry? Socket)> OnPorts(EpollInterestScanner scanner, List<EpollInterest> rows, HashSet<int> ports)
    {
        var found = new List<(EpollInterest, SocketEntry?)>();
        foreach (var row in rows)
        {
            if (row.TargetKind == TargetKind.Socket && row.TargetInode is ulong inode
                && scanner.Resolver.FindSocket(row.TargetProcessId, inode) is { LocalPort: int port } socket && ports.Contains(port))
            {
                found.Add((row, socket));
            }
        }

        return found;
    }

    /// <summary>
    /// A file asked for that exists but that no epoll instance read registers: said, never silence (a connection an
    /// event loop stopped watching, with data waiting, is what an operator looks for). Where it is open, and what it
    /// is (with the bytes that wait), come with it.
    /// </summary>
    private void ReportUnwatched(EpollInterestScanner scanner, TargetSpec? target, int? port)
    {
        string scope = SearchesHost || ParameterSetName == AllSet ? "on this host" : "of the processes read";
        string what = port is int number ? $"a TCP or UDP socket on local port {number}" : target?.ToString() ?? "?";
        string detail = target switch
        {
            TargetSpec.ProcessFd(int pid, int fd) => DescribeHeld(scanner, pid, fd),
            TargetSpec.Inode(_, ulong inode) => scanner.Resolver.FirstHolderOf(inode) is (int pid, int fd) ? DescribeHeld(scanner, pid, fd) : string.Empty,
            _ => string.Empty,
        };
        WriteError(ErrorRecords.Usage("TargetNotWatched", ErrorCategory.ObjectNotFound, (object?)target ?? port,
            $"No epoll instance {scope} watches {what}{detail}.",
            "A connection nobody watches is read by nobody: the program stopped watching it (flow control, a paused reader) or lost it. Get-MultiplexerWait shows whether a poll or select waits on it; Get-FdInfo -Id <pid> lists the process's fds."));
    }

    /// <summary>": it is fd 7 of 1234 (python3), TCP ... , 261632 bytes unread".</summary>
    private static string DescribeHeld(EpollInterestScanner scanner, int pid, int fd)
    {
        try
        {
            string? link = ProcFs.ReadFdTarget(pid, fd);
            return link is null ? string.Empty : $": it is fd {fd} of {pid} ({ProcFs.ReadComm(pid) ?? "?"}), {scanner.Resolver.Resolve(pid, fd, link).Description}";
        }
        catch (ProcessUnreadableException)
        {
            return string.Empty;
        }
    }

    protected override void StopProcessing() => _stopping.Set();

    public void Dispose() => _stopping.Dispose();

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
