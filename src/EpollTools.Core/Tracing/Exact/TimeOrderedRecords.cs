using System.Collections.Generic;
using System.Diagnostics;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// Puts the records of an exact trace back in the order the kernel's clock gives them. bpftrace hands lines over a
/// CPU's buffer at a time, so a child's first call (on one CPU) can arrive before the fork that made it (on another);
/// a record is held until it is <see cref="Window"/> old, by which time every CPU's earlier lines have come.
/// </summary>
public sealed class TimeOrderedRecords
{
    /// <summary>How long a record is held: bpftrace reads the buffers as they fill, within milliseconds.</summary>
    public static readonly ulong Window = 50_000_000;

    private readonly PriorityQueue<EpollCallRecord, (ulong Nanoseconds, long Arrival)> _held = new();
    private long _arrivals;

    public int Count => _held.Count;

    public void Add(EpollCallRecord record) => _held.Enqueue(record, (record.Nanoseconds, _arrivals++));

    /// <summary>The records old enough at <paramref name="now"/> (CLOCK_MONOTONIC, ns), oldest first.</summary>
    public List<EpollCallRecord> Due(ulong now)
    {
        var due = new List<EpollCallRecord>();
        while (_held.TryPeek(out _, out var key) && key.Nanoseconds + Window <= now)
        {
            due.Add(_held.Dequeue());
        }

        return due;
    }

    /// <summary>Every record held, oldest first: for the end of a trace, when nothing more will come.</summary>
    public List<EpollCallRecord> All() => Due(ulong.MaxValue - Window);

    /// <summary>How long until the oldest record held is due; null when none is held.</summary>
    public System.TimeSpan? UntilNextDue(ulong now)
        => _held.TryPeek(out _, out var key) ? System.TimeSpan.FromTicks((long)(key.Nanoseconds + Window > now ? (key.Nanoseconds + Window - now) / 100 : 0)) : null;

    /// <summary>CLOCK_MONOTONIC now, in ns, the clock bpftrace's nsecs reads: Stopwatch reads it on Linux.</summary>
    public static ulong MonotonicNanoseconds() => (ulong)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
}
