using System;

namespace EpollTools.Core.Proc;

/// <summary>What changed between two samples of an interest list, or of the threads waiting on it.</summary>
public enum InterestChangeKind
{
    /// <summary>A registration appeared (EPOLL_CTL_ADD).</summary>
    Added,

    /// <summary>A registration went away (EPOLL_CTL_DEL, or the last fd of its file closed).</summary>
    Removed,

    /// <summary>Its mask or data changed (EPOLL_CTL_MOD).</summary>
    Modified,

    /// <summary>A one-shot registration fired: its mask now reads as flags alone.</summary>
    Disarmed,

    /// <summary>A disarmed one-shot registration was armed again (EPOLL_CTL_MOD).</summary>
    Rearmed,

    /// <summary>The epoll fd was closed, or its process exited: it is no longer traced.</summary>
    InstanceClosed,

    /// <summary>A thread entered an epoll wait on the instance.</summary>
    StartedWaiting,

    /// <summary>A thread left its epoll wait on the instance.</summary>
    StoppedWaiting,

    /// <summary>An epoll instance was created (epoll_create1): traced from here on. Exact traces only.</summary>
    Created,

    /// <summary>An epoll wait returned this event for this registration (one object per event). Exact traces only.</summary>
    Delivered,

    /// <summary>An epoll wait returned no event: its timeout passed. Exact traces only.</summary>
    TimedOut,

    /// <summary>An epoll_ctl or an epoll wait failed: <see cref="EpollInterestChange.Error"/> names the errno. Exact traces only.</summary>
    Failed,

    /// <summary>
    /// A registered fd was closed (or dup2'd over) without EPOLL_CTL_DEL: the registration stays while another fd
    /// holds the file (stale), and goes with the file's last fd. Exact traces only.
    /// </summary>
    FdClosed,

    /// <summary>
    /// A traced process forked a child process, which holds the parent's epoll fds (the same instances); traced
    /// from here on with -Follow. Exact traces only.
    /// </summary>
    Forked,

    /// <summary>A traced process started a thread (traced as its process is). Exact traces only.</summary>
    ThreadStarted,

    /// <summary>A thread of a traced process exited, or its last did and the process ended. Exact traces only.</summary>
    Exited,
}

/// <summary>One change seen by Trace-EpollInterest, with when it was seen. Plain properties, so that it survives serialization.</summary>
public sealed record EpollInterestChange
{
    /// <summary>When the sample that saw the change was taken (the change happened since the sample before).</summary>
    public DateTime Time { get; init; }

    /// <summary>Since the trace began.</summary>
    public TimeSpan Elapsed { get; init; }

    public InterestChangeKind Change { get; init; }

    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int EpollFd { get; init; }

    /// <summary>The registration's fd number; null for instance and thread changes.</summary>
    public int? TargetFd { get; init; }

    /// <summary>The stored mask before the change (null when added).</summary>
    public EpollEvents? OldEvents { get; init; }

    /// <summary>The stored mask after the change (null when removed).</summary>
    public EpollEvents? Events { get; init; }

    public ulong? OldData { get; init; }

    public ulong? Data { get; init; }

    /// <summary>What the registered file is, as Get-EpollInterest describes it (resolved when the change was seen).</summary>
    public string? Target { get; init; }

    /// <summary>For StartedWaiting and StoppedWaiting: the thread.</summary>
    public int? ThreadId { get; init; }

    public string? ThreadName { get; init; }

    /// <summary>The change in one line: "IN|ET 0x5 -> IN|OUT|ET 0x5", "tid 123 (worker) entered epoll_wait".</summary>
    public string Detail { get; init; } = string.Empty;

    /// <summary>For <see cref="InterestChangeKind.Failed"/>: the errno's name ("EEXIST", "ENOENT", "EINTR").</summary>
    public string? Error { get; init; }

    public override string ToString() => $"{Time:HH:mm:ss.fff} {ProcessId} epoll {EpollFd} {Change} {Detail}";
}
