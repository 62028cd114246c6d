using System.Linq;

namespace EpollTools.Core.Proc;

/// <summary>How many events of one registration a wait returned with one mask (EPOLLIN, EPOLLIN|EPOLLHUP, ...).</summary>
public sealed class DeliveredMask
{
    public EpollEvents Events { get; init; }

    public long Count { get; init; }

    /// <summary>The mask as the kernel's names without the prefix ("IN|HUP").</summary>
    public string Flags => EpollEventsText.ToShortString(Events);

    public override string ToString() => $"{Flags} {Count}";
}

/// <summary>
/// One thread that received events of a registration or a shared file, or a registration of a shared file that
/// received none (ThreadId null, Events 0).
/// </summary>
public sealed record DeliveryReceiver
{
    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    /// <summary>The thread whose waits returned the events; null for a registration that received none.</summary>
    public int? ThreadId { get; init; }

    public string? ThreadName { get; init; }

    public int EpollFd { get; init; }

    /// <summary>The registered fd; null when the events' data matched no single registration.</summary>
    public int? Fd { get; init; }

    public long Events { get; init; }

    /// <summary>This receiver's part of the file's or registration's events, 0 to 1.</summary>
    public double Share { get; init; }

    public override string ToString() => ThreadId is int tid
        ? $"{ProcessId}/{tid} ({ThreadName}) epoll fd {EpollFd}: {Events} ({Share:P0})"
        : $"{ProcessId} ({ProcessName}) epoll fd {EpollFd}: none";

    /// <summary>Who, in a line: "pid/tid name, epoll fd N" (or "pid name, epoll fd N: none received" for a registration that received nothing).</summary>
    public string Who => ThreadId is int tid ? $"{ProcessId}/{tid} {ThreadName}, epoll fd {EpollFd}" : $"{ProcessId} {ProcessName}, epoll fd {EpollFd}";
}

/// <summary>
/// The events one registration of an epoll instance delivered over a measurement, counted in the kernel: how many, with
/// which masks, to which threads. A registration is known by the data its events carried, matched to the interest
/// list fdinfo showed at the start or the end of the measurement. Plain properties, so that it survives serialization.
/// </summary>
public sealed record EpollRegistrationDeliveries
{
    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int EpollFd { get; init; }

    /// <summary>The registered fd; null when the data matched no registration, or several.</summary>
    public int? Fd { get; init; }

    /// <summary>What the fd is ("TCP 127.0.0.1:8080 LISTEN", "eventfd", ...), or why it is not known.</summary>
    public string Target { get; init; } = string.Empty;

    /// <summary>The mask the registration asked for, as fdinfo showed it; null when not known.</summary>
    public EpollEvents? Registered { get; init; }

    /// <summary>The data its events carried (epoll_event.data as a number).</summary>
    public ulong Data { get; init; }

    /// <summary>The file's inode and device, as fdinfo names them; null when not known.</summary>
    public ulong? Inode { get; init; }

    public string? Device { get; init; }

    public long Events { get; init; }

    /// <summary>The events by the mask each was returned with, most first.</summary>
    public ItemList<DeliveredMask> ByMask { get; init; } = ItemList<DeliveredMask>.Empty;

    /// <summary>The threads that received them, most first.</summary>
    public ItemList<DeliveryReceiver> ByThread { get; init; } = ItemList<DeliveryReceiver>.Empty;

    /// <summary>Why the registration is not fully known (gone by the end, data shared by several), or null.</summary>
    public string? Note { get; init; }

    public override string ToString() => $"{ProcessId} epoll fd {EpollFd} fd {(Fd?.ToString() ?? "?")} ({Target}): {Events} events";
}

/// <summary>
/// One file registered in several epoll instances of the processes measured (a listening socket workers share), or
/// whose events reached several threads: which received its events, and how fairly. With EPOLLEXCLUSIVE the kernel
/// wakes one waiter for each event, so the counts of its receivers sum to the events it had.
/// </summary>
public sealed class SharedFileDeliveries
{
    /// <summary>What the file is, as the first registration that shows it describes it.</summary>
    public string Target { get; init; } = string.Empty;

    public ulong Inode { get; init; }

    public string? Device { get; init; }

    /// <summary>Registrations of the file in the instances measured.</summary>
    public int Watchers { get; init; }

    /// <summary>Whether every registration of it asked for EPOLLEXCLUSIVE.</summary>
    public bool Exclusive { get; init; }

    public long Events { get; init; }

    /// <summary>A line per thread that received its events, then each registration that received none.</summary>
    public ItemList<DeliveryReceiver> Receivers { get; init; } = ItemList<DeliveryReceiver>.Empty;

    /// <summary>What stands out (one watcher receiving nearly all of them), or null.</summary>
    public string? Finding { get; init; }

    public override string ToString() => $"{Target}: {Events} events to {Receivers.Count(r => r.ThreadId is not null)} thread(s) of {Watchers} watcher(s)";
}
