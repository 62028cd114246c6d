using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using EpollTools.Core;
using EpollTools.Core.Chains;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Waits;

namespace EpollTools.Commands;

/// <summary>
/// Get-WaitChain: from the threads of a process blocked on fds to the processes holding the other ends, and on from
/// what those wait on: each link with why it was followed, each chain with why it ends, cycles as deadlocks.
/// </summary>
[Cmdlet(VerbsCommon.Get, "WaitChain", DefaultParameterSetName = IdSet)]
[OutputType(typeof(WaitChainLink), typeof(Deadlock), typeof(string))]
[OutputType(typeof(ConnectionHolder), typeof(WaitChainLink), ParameterSetName = new[] { ConnectionSet })]
public sealed class GetWaitChainCommand : ProcessSelectionCommandBase
{
    private const string ConnectionSet = "Connection";

    private readonly List<(int Pid, int? Tid)> _requests = new();

    /// <summary>
    /// Sessions to other hosts (New-PSSession): a chain that reaches a TCP peer on one of them (by the session's
    /// address) goes on there, and comes back here if it returns.
    /// </summary>
    [Parameter(ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = NameSet)]
    [Parameter(ParameterSetName = AllSet)]
    [ValidateNotNullOrEmpty]
    public System.Management.Automation.Runspaces.PSSession[]? Session { get; set; }

    /// <summary>With -RemoteEndPoint: the TCP connection whose side on this host has this address ("10.0.0.5:6379"): start from the processes that hold it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ConnectionSet)]
    [ValidateNotNullOrEmpty]
    public string LocalEndPoint { get; set; } = string.Empty;

    /// <summary>With -LocalEndPoint: the address of the connection's other side ("10.0.0.4:51234").</summary>
    [Parameter(Mandatory = true, ParameterSetName = ConnectionSet)]
    [ValidateNotNullOrEmpty]
    public string RemoteEndPoint { get; set; } = string.Empty;

    /// <summary>Only this thread of each process (Get-MultiplexerWait rows bind it by property name).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Tid")]
    [ValidateRange(1, int.MaxValue)]
    public int? ThreadId { get; set; }

    /// <summary>How many levels of holders to follow before a chain is cut (DepthLimit).</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int Depth { get; set; } = WaitChainWalker.DefaultDepth;

    /// <summary>Only the deadlocks found: one Deadlock object per cycle of waits, each named once.</summary>
    [Parameter]
    public SwitchParameter Deadlock { get; set; }

    /// <summary>Writes the chains as one Graphviz graph (DOT) instead of the links: pipe it to dot -Tsvg.</summary>
    [Parameter]
    public SwitchParameter AsDot { get; set; }

    protected override void BeginProcessing()
    {
        if (AsDot && Deadlock)
        {
            ThrowTerminatingError(ErrorRecords.Usage("AsDotWithDeadlock", ErrorCategory.InvalidArgument, null,
                "-AsDot and -Deadlock cannot be used together: the graph draws the links, with each deadlock's waits in red.",
                "Leave out -Deadlock to draw the graph, or -AsDot to list the deadlocks."));
        }
    }

    protected override void ProcessRecord()
    {
        foreach (int id in Id ?? Array.Empty<int>())
        {
            _requests.Add((id, ThreadId));
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == ConnectionSet)
        {
            FromConnection();
            return;
        }

        if (NoProcessCameDownThePipeline(_requests.Count))
        {
            return;
        }

        var requests = Mode == ProcessSelectionMode.Ids
            ? _requests.Distinct().ToList()
            : SelectedPids(Array.Empty<int>()).Select(pid => (pid, ThreadId)).ToList();
        var deadlocks = new HashSet<string>();
        var drawn = new List<WaitChainLink>();
        try
        {
            using var walker = new WaitChainWalker(Depth, WriteVerbose);
            var acrossHosts = Session is { Length: > 0 } ? new CrossHostChains(Session, Depth, WriteError, () => Stopping) : null;
            bool oneProcessAsked = ExplicitIds && requests.Count == 1;
            ForEachProcess(requests, request => request.Item1, request =>
            {
                int links = 0;
                var walked = walker.Walk(request.Item1, request.Item2);
                foreach (var link in acrossHosts?.Follow(walked) ?? walked)
                {
                    links++;
                    if (Stopping)
                    {
                        return;
                    }

                    if (AsDot)
                    {
                        drawn.Add(link);
                    }
                    else if (!Deadlock)
                    {
                        WriteObject(link);
                    }
                    else if (Core.Proc.Deadlock.Of(link) is { } cycle && deadlocks.Add(cycle.Key))
                    {
                        WriteObject(cycle); // the same cycle is met from each of its members: named once
                    }
                }

                if (links == 0 && oneProcessAsked)
                {
                    // An empty answer alone would look like a failure: say what the threads do instead.
                    WriteWarning(WhyNoChain(request.Item1));
                }
            }, ProcessRead.Threads);

            if (AsDot && !Stopping)
            {
                WriteObject(WaitChainGraph.ToDot(drawn));
            }
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null)); // the fd limit: every further read would fail too
        }
        catch (ReadinessNotSupportedException e)
        {
            // What is ready on a waited fd is read through pidfd_getfd: without it, a wait cannot be told from one about to end.
            ThrowTerminatingError(ErrorRecords.Usage("ReadinessNotSupported", ErrorCategory.NotImplemented, null, e.Message,
                "Get-WaitChain needs Linux 5.6 or later (pidfd_getfd); Get-MultiplexerWait and Get-EpollInterest without -Readiness work on older kernels."));
        }
    }

    /// <summary>
    /// -LocalEndPoint -RemoteEndPoint: each process here holding that TCP connection, as a holder (what it does), then,
    /// when it waits on fds, its links. What Get-WaitChain -Session asks another host for; an operator can too.
    /// </summary>
    private void FromConnection()
    {
        if (!IPEndPoint.TryParse(LocalEndPoint, out var local) || !IPEndPoint.TryParse(RemoteEndPoint, out var remote) || local.Port == 0 || remote.Port == 0)
        {
            string bad = IPEndPoint.TryParse(LocalEndPoint, out var parsed) && parsed.Port != 0 ? RemoteEndPoint : LocalEndPoint;
            ThrowTerminatingError(ErrorRecords.Usage("InvalidEndPoint", ErrorCategory.InvalidArgument, bad,
                $"'{bad}' is not an address and port.", "Give both sides as address:port, e.g. -LocalEndPoint 10.0.0.5:6379 -RemoteEndPoint 10.0.0.4:51234 ([::1]:6379 for IPv6), as ss -tn shows them."));
            return;
        }

        try
        {
            using var walker = new WaitChainWalker(Depth, WriteVerbose);
            int holders = 0;
            foreach (var (holder, links) in walker.FromConnection(local, remote))
            {
                holders++;
                WriteObject(holder);
                foreach (var link in links)
                {
                    if (Stopping)
                    {
                        return;
                    }

                    WriteObject(link);
                }
            }

            if (holders == 0)
            {
                WriteWarning($"No process on this host holds a TCP connection from {local} to {remote}: it is closed, or its holder is outside what this host's /proc shows.");
            }
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null));
        }
    }

    /// <summary>Why a process asked for has no link: it is held, a kernel thread or a zombie, or its threads run or sleep elsewhere.</summary>
    private static string WhyNoChain(int pid)
    {
        string name = ProcFs.ReadComm(pid) ?? "?";
        string? held = ThreadCondition.OfProcess(pid).Hold switch
        {
            ThreadHold.Stopped => "stopped by a signal (SIGSTOP, Ctrl+Z)",
            ThreadHold.Traced => "held by a tracer (a debugger, strace)",
            ThreadHold.Frozen => "frozen by its cgroup",
            ThreadHold.UninterruptibleSleep => "in an uninterruptible sleep (D: I/O or a kernel lock)",
            ThreadHold.Exiting => "exiting",
            _ => null,
        };
        return ProcessCondition.WhyNoWait(pid, name)
            ?? (held is not null
                ? $"Process {pid} ({name}) is {held}: a held thread waits on nothing until it is let go. Processes waiting on it are found from their side: Get-WaitChain -Id <waiter>."
                : $"No thread of process {pid} ({name}) is blocked on an fd now: they run, or sleep on something else (a lock, a timer, a child). Get-MultiplexerWait -IncludeAllThreads shows each thread's call.");
    }
}
