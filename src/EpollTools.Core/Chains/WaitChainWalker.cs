using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Chains;

/// <summary>
/// Walks from the threads of a process blocked on fds to the processes that hold the other ends of those fds, and on
/// from what those wait on, to a depth: the question "who should wake this, and why does it not?". Each link is
/// written as it is found (depth first); each chain ends with its reason (see <see cref="ChainEnd"/>). Reads only.
/// </summary>
public sealed class WaitChainWalker : IDisposable
{
    /// <summary>Links followed from the process asked about before a chain is cut (<see cref="ChainEnd.DepthLimit"/>).</summary>
    public const int DefaultDepth = 8;

    private readonly InterestListReader _interest;
    private readonly MultiplexerWaitScanner _scanner = new();
    private readonly ReadinessProbe _probe = new();
    private readonly int _maxDepth;

    /// <summary>The processes whose waits this walk has listed: a holder met again is not walked twice.</summary>
    private readonly HashSet<int> _walked = new();

    /// <param name="maxDepth">How many levels of holders to follow.</param>
    /// <param name="verbose">Where the walk says what it passed over and why.</param>
    public WaitChainWalker(int maxDepth = DefaultDepth, Action<string>? verbose = null)
    {
        _maxDepth = maxDepth;
        _interest = new InterestListReader(verbose);
        Ends = new OtherEnds(_interest.Resolver);
    }

    private OtherEnds Ends { get; }

    private TargetResolver Resolver => _interest.Resolver;

    /// <summary>
    /// The links from the threads of <paramref name="pid"/> (only <paramref name="tid"/>, if given) that are blocked on
    /// fds. Throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/> for that process;
    /// a holder that cannot be read ends its branch instead.
    /// </summary>
    public IEnumerable<WaitChainLink> Walk(int pid, int? tid = null)
    {
        var all = _scanner.Scan(pid, includeAllThreads: true);
        _walked.Clear();
        _walked.Add(pid);
        return WalkProcess(pid, WithBlocked(all.Where(t => tid is null || t.ThreadId == tid)), depth: 0, new List<ChainStep>(), all.Count);
    }

    /// <summary>Each thread with the fds it is blocked on (an epoll wait's: its instance's registrations, each probed).</summary>
    private List<(MultiplexerWait Thread, IReadOnlyList<BlockedFd> Blocked)> WithBlocked(IEnumerable<MultiplexerWait> threads)
        => threads.Select(thread => (thread, BlockedOn.Read(thread, _interest, _probe))).ToList();

    private IEnumerable<WaitChainLink> WalkProcess(int pid, List<(MultiplexerWait Thread, IReadOnlyList<BlockedFd> Blocked)> threads, int depth, List<ChainStep> path, int? threadCount = null)
    {
        foreach (var (thread, blocked) in threads)
        {
            foreach (var waited in blocked)
            {
                foreach (var link in Follow(pid, thread, waited, threadCount ?? threads.Count, depth, path))
                {
                    yield return link;
                }
            }
        }
    }

    /// <param name="threadCount">How many threads the waiter's process has: another may write its own pipe.</param>
    private IEnumerable<WaitChainLink> Follow(int pid, MultiplexerWait thread, BlockedFd waited, int threadCount, int depth, List<ChainStep> path)
    {
        string? linkText = SafeLink(waited.Pid, waited.Fd);
        if (linkText is null)
        {
            yield break; // closed since the thread was read: it no longer waits on it
        }

        string target = Resolver.Resolve(waited.Pid, waited.Fd, linkText).Description;
        var ends = Ends.Of(waited.Pid, waited.Fd, linkText, waited.ForInput);
        WaitChainLink Link(ChainEnd end, string detail, OtherEnds.Holder? holder = null, Deadlock? deadlock = null) => new()
        {
            Depth = depth,
            ProcessId = pid,
            ProcessName = thread.ProcessName,
            ThreadId = thread.ThreadId,
            ThreadName = thread.ThreadName,
            Call = thread.Call,
            Fd = waited.Fd,
            Waits = waited.ForInput ? "input" : "output",
            OnlyWait = waited.Alone,
            Target = target,
            LocalEndPoint = ends.LocalEndPoint,
            PeerEndPoint = ends.PeerEndPoint,
            HolderProcessId = holder?.Pid,
            HolderComputerName = holder is null ? null : Environment.MachineName,
            HolderName = holder is null ? null : HolderName(holder.Pid),
            HolderFd = holder?.Fd,
            HolderEnd = holder?.End,
            End = end,
            Detail = detail,
            CycleProcessIds = deadlock?.ProcessIds,
            CycleMembers = deadlock?.Members,
            CycleComputerNames = deadlock?.ComputerNames,
        };

        var hangUp = EpollEvents.Hup | EpollEvents.Err;
        if (waited.Ready is EpollEvents ready && (ready & (waited.Events | hangUp)) != 0)
        {
            string edge = waited.EdgeTriggered ? " (edge-triggered: reported once, so it does not wake the wait again)" : string.Empty;
            string now = EpollEventsText.ToShortString(ready & (waited.Events | hangUp));
            // A hang-up the kernel reports is exact where the holders seen may not be: no writer (or reader) is left
            // anywhere, readable or not.
            yield return ends.Stop is { End: ChainEnd.Gone or ChainEnd.Unreadable } gone && (ready & hangUp) != 0
                ? Link(ChainEnd.Gone, $"{(gone.End == ChainEnd.Gone ? gone.Detail : ends.IfHungUp ?? "nobody holds the other end")}; {now} is ready{edge}")
                : Link(ChainEnd.Ready, $"ready now ({now}): the thread should wake{(waited.EdgeTriggered ? ", unless it took the edge and left it unread (edge-triggered)" : string.Empty)}");
            yield break;
        }

        if (ends.Stop is { } stop)
        {
            yield return Link(stop.End, stop.Detail);
            yield break;
        }

        // One link per holding process (the first of its fds on the other end): a process with the same pipe under
        // ten fds is one holder.
        foreach (var holder in ends.Holders.GroupBy(h => h.Pid).Select(g => g.First()))
        {
            var step = new ChainStep(pid, thread.ThreadId, thread.ProcessName, waited.Fd, holder.Pid, holder.Fd, waited.Alone);
            if (holder.Pid == pid && (threadCount > 1 || !waited.Alone))
            {
                // A wakeup pipe (or socket pair): the process writes its own other end, from another thread or a
                // signal handler, to wake this wait. Normal in event loops; not a wait on itself.
                string writer = threadCount > 1 ? "another of its threads or a signal handler" : "a signal handler";
                yield return Link(ChainEnd.NotFollowed, $"this process holds the other end itself (fd {holder.Fd}): {writer} writes it to wake the wait (a wakeup pipe)", holder);
                continue;
            }

            int cycleStart = holder.Pid == pid ? path.Count : path.FindIndex(s => s.Pid == holder.Pid);
            if (cycleStart >= 0)
            {
                var cycle = path.Skip(cycleStart).Append(step).ToList();
                if (cycle.Any(s => !s.Alone))
                {
                    // One of them also waits on other fds, any of which may wake it: a cycle of waits, not a deadlock.
                    var free = cycle.First(s => !s.Alone);
                    yield return Link(ChainEnd.Cycle, $"back to {holder.Pid}: a cycle of waits, but {free.Pid} (thread {free.Tid}) also waits on other fds, which may wake it: not a deadlock", holder);
                    continue;
                }

                var deadlock = ChainStep.Deadlock(cycle);
                string closes = holder.Pid == pid
                    ? $"the waiter holds the other end itself (fd {holder.Fd}) and has no other thread: it waits on itself"
                    : $"back to {holder.Pid}: a deadlock of {deadlock.ProcessIds.Count} processes ({string.Join(" -> ", deadlock.ProcessIds)})";
                yield return Link(ChainEnd.Cycle, closes, holder, deadlock);
                continue;
            }

            var (state, holderThreads) = HolderState(holder, ends.HolderLink);
            if (state.End != ChainEnd.Continues)
            {
                yield return Link(state.End, state.Detail, holder);
                continue;
            }

            if (depth + 1 >= _maxDepth)
            {
                yield return Link(ChainEnd.DepthLimit, $"{_maxDepth} levels followed; -Depth follows more", holder);
                continue;
            }

            if (!_walked.Add(holder.Pid))
            {
                yield return Link(ChainEnd.ListedAbove, $"{state.Detail}; its waits are listed above", holder);
                continue;
            }

            yield return Link(ChainEnd.Continues, state.Detail, holder);
            path.Add(step);
            foreach (var next in WalkProcess(holder.Pid, holderThreads!, depth + 1, path))
            {
                yield return next;
            }

            path.RemoveAt(path.Count - 1);
        }
    }

    /// <summary>
    /// The processes here that hold the TCP connection whose local side is <paramref name="local"/> and remote side
    /// <paramref name="remote"/>: each judged as a holder (what a link to it would end with), and, for one that waits
    /// on fds, its own links from depth 0. Where a chain that crossed from another host goes on. None when no process
    /// here holds it.
    /// </summary>
    public IEnumerable<(ConnectionHolder Holder, IEnumerable<WaitChainLink> Links)> FromConnection(IPEndPoint local, IPEndPoint remote)
    {
        string protocol = local.AddressFamily == AddressFamily.InterNetworkV6 ? "TCP6" : "TCP";
        // Asked as the peer of a socket facing the other way: the one found has this local side and this remote side.
        var facing = new SocketEntry(0, protocol, string.Empty, remote.Address, remote.Port, local.Address, local.Port, null);
        if (Resolver.FindConnectedPeer(Environment.ProcessId, facing) is not SocketEntry socket || socket.Inode == 0)
        {
            yield break;
        }

        _walked.Clear();
        string link = $"socket:[{socket.Inode}]";
        foreach (var (pid, fd) in Resolver.Holders.HoldersOf(socket.Inode).GroupBy(h => h.Pid).Select(g => g.First()))
        {
            var (state, threads) = HolderState(new OtherEnds.Holder(pid, fd, "peer socket"), link);
            var holder = new ConnectionHolder { ProcessId = pid, ProcessName = HolderName(pid), Fd = fd, End = state.End, Detail = state.Detail };
            bool walk = state.End == ChainEnd.Continues && _walked.Add(pid);
            yield return (holder, walk ? WalkProcess(pid, threads!, depth: 0, new List<ChainStep>()) : Enumerable.Empty<WaitChainLink>());
        }
    }

    /// <summary>
    /// What a holder does: read whole, then its fd checked to still be the other end, so that a process that took the
    /// holder's pid since the fd tables were listed is never linked in its place.
    /// </summary>
    private ((ChainEnd End, string Detail) State, List<(MultiplexerWait Thread, IReadOnlyList<BlockedFd> Blocked)>? Threads) HolderState(OtherEnds.Holder holder, string? holderLink)
    {
        List<MultiplexerWait> threads;
        try
        {
            threads = _scanner.Scan(holder.Pid, includeAllThreads: true);
        }
        catch (ProcessGoneException)
        {
            return ((ChainEnd.Gone, $"{holder.Pid} exited while the chain was read"), null);
        }
        catch (ProcessAccessDeniedException)
        {
            return ((ChainEnd.Unreadable, $"{holder.Pid}'s threads cannot be read (ptrace attach access)"), null);
        }

        string? now = SafeLink(holder.Pid, holder.Fd);

        // Read, then checked to be the process the fd tables found: a pid taken since is another process, whatever
        // it holds under that fd number, and what was just read is its, not the holder's.
        if (Resolver.Holders.ListedTable(holder.Pid)?.Identity is ulong listed && ProcessIdentity.PidfsInode(holder.Pid) != listed)
        {
            return ((ChainEnd.Gone, $"{holder.Pid} exited while the chain was read; its pid is another process's now"), null);
        }

        if (now is null || (holderLink is not null && now != holderLink))
        {
            // An exiting process (a zombie too) has let go of every fd: say why.
            return ProcessCondition.HasExited(holder.Pid)
                ? ((ChainEnd.Gone, $"{holder.Pid} exited while the chain was read"), null)
                : ((ChainEnd.Gone, $"{holder.Pid} let go of fd {holder.Fd} while the chain was read"), null);
        }

        // Read only as the judgement asks (a busy or held holder needs none), and kept for the walk that follows.
        var read = new Dictionary<MultiplexerWait, IReadOnlyList<BlockedFd>>();
        IReadOnlyList<BlockedFd> Blocked(MultiplexerWait thread) => read.TryGetValue(thread, out var fds) ? fds : read[thread] = BlockedOn.Read(thread, _interest, _probe);
        var state = HolderStates.Judge(holder.Pid, threads, thread => Blocked(thread).Count > 0);
        return (state, state.End == ChainEnd.Continues ? threads.Select(thread => (thread, Blocked(thread))).ToList() : null);
    }

    /// <summary>
    /// The holder's name as its fd table was listed: a holder that exited while it was listed has none ("?"), and the
    /// name its pid reads now may be another process's.
    /// </summary>
    private string HolderName(int pid) => Resolver.Holders.ListedTable(pid) is { } listed ? listed.ProcessName ?? "?" : Resolver.NameOf(pid);

    private static string? SafeLink(int pid, int fd)
    {
        try
        {
            return FdFiles.ReadLink(pid, fd);
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    public void Dispose() => _probe.Dispose();
}

/// <summary>One wait followed: a thread of a process on an fd, to the holder's fd on the other end.</summary>
internal sealed record ChainStep(int Pid, int Tid, string ProcessName, int Fd, int HolderPid, int HolderFd, bool Alone)
{
    /// <summary>The deadlock the steps make, the last step's holder being the first step's waiter.</summary>
    public static Deadlock Deadlock(IReadOnlyList<ChainStep> cycle) => new()
    {
        Members = cycle.Select(s => Proc.Deadlock.Member(null, s.Pid, s.ProcessName, s.Tid, s.Fd, null, s.HolderPid, s.HolderFd)).ToArray(),
        ProcessIds = cycle.Select(s => s.Pid).ToArray(),
        ComputerNames = cycle.Select(_ => Environment.MachineName).ToArray(),
    };
}
