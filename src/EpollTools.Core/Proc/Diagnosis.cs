namespace EpollTools.Core.Proc;

/// <summary>The shapes of a stuck or misbehaving wait that the module can show from what it read.</summary>
public enum DiagnosisKind
{
    /// <summary>A one-shot registration fired and was not re-armed: its events read back as flags only.</summary>
    OneShotDisarmed,

    /// <summary>An edge-triggered registration whose file has input ready now (needs -Readiness).</summary>
    EdgeTriggeredUnread,

    /// <summary>A pipe or FIFO read end whose writers have all closed: HUP is ready (needs -Readiness).</summary>
    WritersGone,

    /// <summary>A pipe or FIFO write end whose readers have all closed: ERR is ready (needs -Readiness).</summary>
    ReadersGone,

    /// <summary>The registration's fd number was closed (or reused) while the registered file lives on.</summary>
    ClosedFdRegistered,

    /// <summary>One file registered in several instances, some with EXCLUSIVE and some without.</summary>
    ExclusiveMix,

    /// <summary>An epoll wait on an instance with nothing registered.</summary>
    EmptyInterestList,

    /// <summary>An epoll wait on an instance whose every registration is stale in the waiting process.</summary>
    AllRegistrationsStale,

    /// <summary>Several threads wait on one epoll instance.</summary>
    SeveralWaiters,

    /// <summary>The thread (or, on a registration, its process) is stopped by a signal: it is not waiting, nothing wakes it.</summary>
    Stopped,

    /// <summary>A ptrace tracer (a debugger) holds the thread (or its process) in a tracing stop.</summary>
    HeldByTracer,

    /// <summary>The thread's (or process's) cgroup is frozen.</summary>
    Frozen,

    /// <summary>The thread is in uninterruptible sleep (D) on the kernel, not waiting on its fds.</summary>
    UninterruptibleSleep,

    /// <summary>The thread or process is exiting, or a zombie.</summary>
    Exiting,
}

/// <summary>
/// One finding about a registration or a wait, from evidence the module read: a short summary for the table view and
/// an explanation of what it means and what usually fixes it.
/// </summary>
public sealed class Diagnosis
{
    public DiagnosisKind Kind { get; init; }

    /// <summary>One short line, shown under the row in the default views.</summary>
    public string Summary { get; init; } = string.Empty;

    /// <summary>What the evidence means for the program, and what usually fixes it.</summary>
    public string Explanation { get; init; } = string.Empty;

    public override string ToString() => Summary;
}
