using EpollTools.Core.Native;

namespace EpollTools.Core.Multiplexers;

/// <summary>Which of select's three sets an fd was ready in.</summary>
public enum SelectSet
{
    Read,
    Write,
    Except,
}

/// <summary>One fd select reported ready, in one set (an fd ready for reading and writing is two of these).</summary>
public sealed class SelectReadyFd
{
    public int Fd { get; init; }

    public SelectSet Set { get; init; }

    public override string ToString() => $"{Fd} {Set}";
}

/// <summary>What one select(2) call returned, as a C program would see it after the call.</summary>
public sealed class SelectResult
{
    /// <summary>select's return value: the number of bits set in the three sets together.</summary>
    public int Count { get; init; }

    /// <summary>The nfds a program passes: the highest fd in any set, plus one (0 for no fds).</summary>
    public int Nfds { get; init; }

    /// <summary>The read set as the kernel left it: only the fds that are ready (the rest were cleared).</summary>
    public ItemList<int> ReadFds { get; init; } = ItemList<int>.Empty;

    public ItemList<int> WriteFds { get; init; } = ItemList<int>.Empty;

    public ItemList<int> ExceptFds { get; init; } = ItemList<int>.Empty;

    /// <summary>Each ready fd with its set, in set order then fd order.</summary>
    public ItemList<SelectReadyFd> Ready { get; init; } = ItemList<SelectReadyFd>.Empty;

    /// <summary>The timeout asked for, in ms: -1 for none (block), 0 to poll.</summary>
    public int TimeoutMilliseconds { get; init; }

    /// <summary>
    /// What Linux wrote back into the timeval: the part of the timeout not slept (0 after a timeout). Null for a
    /// wait with no timeout (a NULL timeval has nothing to write back).
    /// </summary>
    public double? TimeLeftMilliseconds { get; init; }
}

/// <summary>One entry of a poll(2) call: the fd, what was asked for, and what the kernel returned in revents.</summary>
public sealed class PollEntryResult
{
    public int Fd { get; init; }

    /// <summary>events: what was asked for.</summary>
    public EpollEvents Events { get; init; }

    /// <summary>revents: what the kernel returned, asked for or not (ERR, HUP and NVAL always may be).</summary>
    public EpollEvents ReturnedEvents { get; init; }

    /// <summary>A negative fd: the kernel skips the entry and returns 0 in its revents.</summary>
    public bool Ignored => Fd < 0;

    public string Requested => EpollEventsText.ToShortString(Events);

    /// <summary>revents in the kernel's names; empty when nothing was returned.</summary>
    public string Returned => ReturnedEvents == EpollEvents.None ? string.Empty : EpollEventsText.ToShortString(ReturnedEvents);

    /// <summary>The bits returned without being asked for (HUP, ERR, NVAL...); empty when none.</summary>
    public string Unrequested => (ReturnedEvents & ~Events) == EpollEvents.None ? string.Empty : EpollEventsText.ToShortString(ReturnedEvents & ~Events);

    public override string ToString() => $"{Fd} {Requested} -> {(Returned.Length == 0 ? "-" : Returned)}";
}

/// <summary>What one poll(2) call returned.</summary>
public sealed class PollResult
{
    /// <summary>poll's return value: the number of entries with a non-zero revents.</summary>
    public int Count { get; init; }

    public ItemList<PollEntryResult> Entries { get; init; } = ItemList<PollEntryResult>.Empty;

    public int TimeoutMilliseconds { get; init; }
}
