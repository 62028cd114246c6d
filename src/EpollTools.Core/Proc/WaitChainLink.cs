using System;
using System.Linq;

namespace EpollTools.Core.Proc;

/// <summary>Why a wait chain goes on from a link, or where it ends.</summary>
public enum ChainEnd
{
    /// <summary>The holder waits on fds too: the chain goes on from it (the next links, one level deeper).</summary>
    Continues,

    /// <summary>The holder runs (a thread on a CPU or ready to be): it is busy, not stuck; the wait may end when it gets round to it.</summary>
    Running,

    /// <summary>The holder's own waits are listed already, from an earlier link of this walk: not repeated.</summary>
    ListedAbove,

    /// <summary>The holder is stopped by a signal (SIGSTOP, a shell's Ctrl+Z): nothing it holds moves until SIGCONT.</summary>
    Stopped,

    /// <summary>The holder is in a tracing stop: a debugger or strace holds it.</summary>
    Traced,

    /// <summary>The holder is exiting or frozen, or in an uninterruptible sleep.</summary>
    Held,

    /// <summary>The holder sleeps on something that is not an fd (a lock, a timer, a child): the chain is not followed further.</summary>
    BlockedElsewhere,

    /// <summary>Nobody else holds the other end: no process could ever make the fd ready (the writers exited, or only the waiter holds them).</summary>
    Gone,

    /// <summary>
    /// The other end is outside what this host's /proc shows: on another host (its address is given), or held by a
    /// process in another PID namespace that shares this network (a container). Get-WaitChain -Session follows it
    /// to the host it is on.
    /// </summary>
    OutsideHost,

    /// <summary>The holder is already in this chain: the waits form a cycle, a deadlock unless a timeout ends it.</summary>
    Cycle,

    /// <summary>The fd is ready now: the waiter should wake (or, under edge-triggering, missed the edge).</summary>
    Ready,

    /// <summary>A file whose other side is not a process's fd (a listening socket's future clients, a timer, a signal...).</summary>
    NotFollowed,

    /// <summary>The chain is longer than the depth asked for.</summary>
    DepthLimit,

    /// <summary>The holder could not be read (no access): where it stands is not known.</summary>
    Unreadable,
}

/// <summary>
/// One link of a wait chain: a thread of a process blocked on an fd, the other end of that fd, and the process that
/// holds it; then either the holder's own links (<see cref="ChainEnd.Continues"/>, one level deeper) or why the chain
/// ends there. Plain properties only, so that it survives serialization.
/// </summary>
public sealed record WaitChainLink
{
    /// <summary>0 for the threads of the process asked about, 1 for what their holders wait on, and so on.</summary>
    public int Depth { get; init; }

    /// <summary>The host the waiting thread is on: its name, as the host itself says it.</summary>
    public string ComputerName { get; init; } = Environment.MachineName;

    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int ThreadId { get; init; }

    public string ThreadName { get; init; } = string.Empty;

    /// <summary>The call the thread is blocked in: "read", "epoll_wait", "ppoll"...</summary>
    public string Call { get; init; } = string.Empty;

    /// <summary>The fd it waits on (a registration's fd, for an epoll wait).</summary>
    public int Fd { get; init; }

    /// <summary>What it waits for on the fd: "input" (to read) or "output" (room to write).</summary>
    public string Waits { get; init; } = string.Empty;

    /// <summary>
    /// The thread waits on this fd alone (a plain read, or an instance with one registration): nothing else can wake
    /// it. A cycle is a deadlock only when every wait in it is alone.
    /// </summary>
    public bool OnlyWait { get; init; }

    /// <summary>What the fd is, in one line.</summary>
    public string Target { get; init; } = string.Empty;

    /// <summary>For a TCP connection: this side's address and port ("10.0.0.4:51234").</summary>
    public string? LocalEndPoint { get; init; }

    /// <summary>For a TCP connection: the peer's address and port, where the other end is.</summary>
    public string? PeerEndPoint { get; init; }

    /// <summary>The process that holds the other end; null where nobody does, or it is not a process here.</summary>
    public int? HolderProcessId { get; init; }

    /// <summary>The host the holder is on: <see cref="ComputerName"/>, or another host's when the chain crossed to it.</summary>
    public string? HolderComputerName { get; init; }

    public string? HolderName { get; init; }

    /// <summary>The holder's fd on the other end.</summary>
    public int? HolderFd { get; init; }

    /// <summary>Which end the holder has: "write end", "read end", "peer socket".</summary>
    public string? HolderEnd { get; init; }

    public ChainEnd End { get; init; }

    /// <summary>Why the chain ends here, or what the holder does: "stopped (T), since SIGSTOP", "waits in futex_wait".</summary>
    public string Detail { get; init; } = string.Empty;

    /// <summary>For a <see cref="ChainEnd.Cycle"/>: the processes of the deadlock it closes, in the order of the waits.</summary>
    public ItemList<int>? CycleProcessIds { get; init; }

    /// <summary>For a <see cref="ChainEnd.Cycle"/>: each wait of the deadlock, as <see cref="Deadlock.Members"/> says it.</summary>
    public ItemList<string>? CycleMembers { get; init; }

    /// <summary>For a <see cref="ChainEnd.Cycle"/>: the host of each of <see cref="CycleProcessIds"/>.</summary>
    public ItemList<string>? CycleComputerNames { get; init; }

    public override string ToString()
        => $"{ProcessId}/{ThreadId} {Call} fd {Fd} ({Waits}) -> {(HolderProcessId is int holder ? $"{(HolderComputerName is { } far && far != ComputerName ? far + ":" : string.Empty)}{holder} fd {HolderFd}" : "nobody")}: {End}";
}

/// <summary>
/// A process that holds one side of a TCP connection, as Get-WaitChain -LocalEndPoint -RemoteEndPoint finds it on its
/// host: what it does now (the end a link to it would have), before its own links. What a chain that crossed to this
/// host from another continues with.
/// </summary>
public sealed class ConnectionHolder
{
    public string ComputerName { get; init; } = Environment.MachineName;

    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    /// <summary>Its fd on the connection.</summary>
    public int Fd { get; init; }

    /// <summary>What it does: Continues (it waits on fds: its links follow), Running, Stopped, Traced...</summary>
    public ChainEnd End { get; init; }

    public string Detail { get; init; } = string.Empty;

    public override string ToString() => $"{ComputerName}: {ProcessId} ({ProcessName}) fd {Fd}: {End}";
}

/// <summary>
/// A cycle of waits: each member waits on an fd whose other end the next member holds, and the last the first's.
/// Nothing inside can make progress; only a timeout or something from outside ends it.
/// </summary>
public sealed class Deadlock
{
    /// <summary>"1234 (first) thread 1234 waits on fd 3, whose other end 1240 holds as fd 4" for each member, in the order of the waits.</summary>
    public ItemList<string> Members { get; init; } = ItemList<string>.Empty;

    /// <summary>The processes in the cycle, in order.</summary>
    public ItemList<int> ProcessIds { get; init; } = ItemList<int>.Empty;

    /// <summary>The host of each of <see cref="ProcessIds"/>: a cycle can span hosts.</summary>
    public ItemList<string> ComputerNames { get; init; } = ItemList<string>.Empty;

    /// <summary>The same cycle met from another of its members has the same key.</summary>
    public string Key => string.Join(",", ProcessIds.Select((pid, i) => $"{(i < ComputerNames.Count ? ComputerNames[i] : string.Empty)}/{pid}").Order(StringComparer.Ordinal));

    /// <summary>
    /// One member as <see cref="Members"/> says it; with hosts (a cycle across hosts) each process is prefixed with its
    /// host: "fleet-a: 5 (api) thread 5 waits on fd 4, whose other end fleet-b: 7 holds as fd 6".
    /// </summary>
    public static string Member(string? host, int pid, string name, int tid, int fd, string? holderHost, int? holderPid, int? holderFd)
        => $"{(host is null ? string.Empty : host + ": ")}{pid} ({name}) thread {tid} waits on fd {fd}, whose other end {(holderHost is null ? string.Empty : holderHost + ": ")}{holderPid} holds as fd {holderFd}";

    /// <summary>The deadlock a <see cref="ChainEnd.Cycle"/> link closes; null for any other link.</summary>
    public static Deadlock? Of(WaitChainLink link) => link.CycleProcessIds is { Count: > 0 } pids
        ? new Deadlock { ProcessIds = pids, Members = link.CycleMembers ?? ItemList<string>.Empty, ComputerNames = link.CycleComputerNames ?? ItemList<string>.Empty }
        : null;

    public override string ToString() => string.Join("; ", Members);
}
