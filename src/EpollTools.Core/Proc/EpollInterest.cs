namespace EpollTools.Core.Proc;

/// <summary>What kind of file a registered fd refers to.</summary>
public enum TargetKind
{
    Unknown,
    Closed,
    Socket,
    Pipe,
    Fifo,
    EventFd,
    TimerFd,
    SignalFd,
    Inotify,
    Fanotify,
    PidFd,
    Epoll,
    AnonInode,
    RegularFile,
    Directory,
    CharDevice,
    BlockDevice,
}

/// <summary>Whether a registration's tfd number still refers to the registered file.</summary>
public enum RegistrationState
{
    /// <summary>The fd with that number is the registered file.</summary>
    Current,

    /// <summary>The number is closed, or now refers to another file; the registration lives on while the file is open elsewhere.</summary>
    Stale,

    /// <summary>Could not be told (no kcmp access, and inode and device cannot tell anonymous inodes apart).</summary>
    Unknown,

    /// <summary>Not looked at: Get-EpollInterest -NoResolve reads the interest list only.</summary>
    NotChecked,
}

/// <summary>
/// One registration in an epoll instance of some process, as /proc/&lt;pid&gt;/fdinfo/&lt;epfd&gt; shows it,
/// with its target resolved. Plain properties only, so that it survives serialization (remoting, Export-Clixml).
/// </summary>
public sealed class EpollInterest
{
    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int EpollFd { get; init; }

    /// <summary>The epoll instance's inode (anonymous inodes share one number: it does not identify the instance).</summary>
    public ulong? EpollInode { get; init; }

    /// <summary>Every process:fd that holds this epoll instance (several after fork or fd passing).</summary>
    public ItemList<string> Holders { get; init; } = ItemList<string>.Empty;

    public int TargetFd { get; init; }

    /// <summary>
    /// The process whose fd table <see cref="TargetFd"/> was read in: <see cref="ProcessId"/>, unless the instance is
    /// shared and the fd is the registered file only in another of its holders (the one that registered it).
    /// </summary>
    public int TargetProcessId { get; init; }

    /// <summary>The mask as the kernel stores it: Err and Hup are always added; a fired ONESHOT keeps only its flag.</summary>
    public EpollEvents Events { get; init; }

    /// <summary>The stored mask in hex with a 0x prefix, as DataHex is written ("0x19" for IN|ERR|HUP).</summary>
    public string EventsHex => "0x" + ((uint)Events).ToString("x");

    /// <summary>The stored mask in the kernel's short names, e.g. "IN|ERR|HUP|ET".</summary>
    public string Flags => EpollEventsText.ToShortString(Events);

    /// <summary>The mask without the Err and Hup the kernel adds: what the program asked for.</summary>
    public string RequestedFlags => EpollEventsText.ToShortString(Events & ~(EpollEvents.Err | EpollEvents.Hup));

    public ulong Data { get; init; }

    public string DataHex => "0x" + Data.ToString("x");

    public long? Pos { get; init; }

    public ulong? TargetInode { get; init; }

    /// <summary>The target's device as major:minor.</summary>
    public string? TargetDevice { get; init; }

    public TargetKind TargetKind { get; init; }

    /// <summary>The target in one line: "TCP 127.0.0.1:80 LISTEN", "pipe:[123] (write end: 42 nginx fd 7)", "eventfd count=5"...</summary>
    public string Target { get; init; } = string.Empty;

    public RegistrationState State { get; init; }

    /// <summary>Why a registration is stale: "fd closed" or "fd reused by ...".</summary>
    public string? StaleReason { get; init; }

    /// <summary>For a stale registration: the fd of this process that still holds the registered file, if any.</summary>
    public int? StillOpenAs { get; init; }

    /// <summary>
    /// With -Readiness: the events ready on the registered file now (IN, PRI, OUT, RDHUP, ERR, HUP), whether asked for
    /// or not, from a zero-timeout poll of a pidfd_getfd copy. Null when not asked, or when the registered file could
    /// not be reached (its fd closed, or the registration's state Unknown): never guessed.
    /// </summary>
    public EpollEvents? ReadyEvents { get; init; }

    /// <summary>ReadyEvents in the kernel's short names ("IN|OUT"; empty when nothing is ready; null when not read).</summary>
    public string? Ready => ReadyEvents switch
    {
        null => null,
        EpollEvents.None => string.Empty,
        EpollEvents ready => EpollEventsText.ToShortString(ready),
    };

    /// <summary>
    /// What the module concludes about this registration from what it read: a fired one-shot never re-armed, a closed
    /// fd still registered, an EXCLUSIVE mix; with -Readiness also unread input under edge-triggering and a pipe whose
    /// other end is gone. Empty when nothing is found.
    /// </summary>
    public ItemList<Diagnosis> Diagnoses { get; internal set; } = ItemList<Diagnosis>.Empty;

    /// <summary>
    /// With -Target or -TargetPort: the threads of the instance's holders blocked in an epoll wait on this instance
    /// when it was read. Null when not read (the other modes leave it to Get-MultiplexerWait).
    /// </summary>
    public ItemList<int>? WaitingThreadIds { get; internal set; }

    /// <summary>
    /// The kernel's order among registrations with the same tfd number (kcmp's toff). Internal: it is only meaningful
    /// within the one fdinfo read it came from, so it is kept out of what users see and export.
    /// </summary>
    internal int Offset { get; init; }

    public override string ToString() => $"{ProcessId} epoll {EpollFd} tfd {TargetFd} {Flags} {Target}";
}
