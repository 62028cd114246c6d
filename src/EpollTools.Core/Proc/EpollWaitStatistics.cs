using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace EpollTools.Core.Proc;

/// <summary>One power-of-two bucket of a histogram: how many values fell in [Min, Max].</summary>
public sealed record HistogramBucket(long Min, long Max, long Count);

/// <summary>
/// A log2 histogram as the kernel aggregated it (bpftrace's hist()): buckets of powers of two, counts. Plain
/// properties, so that it survives serialization; its text is one bar a bucket.
/// </summary>
public sealed class Log2Histogram
{
    public Log2Histogram(IEnumerable<HistogramBucket> buckets) => Buckets = buckets.Where(b => b.Count > 0).ToArray();

    /// <summary>The buckets that have values, smallest first.</summary>
    public ItemList<HistogramBucket> Buckets { get; }

    public long Total => Buckets.Sum(b => b.Count);

    /// <summary>One line a bucket: "[4, 7]  12 ████", bars scaled to <paramref name="barWidth"/>.</summary>
    public string ToText(int barWidth = 30)
    {
        long most = Buckets.Count == 0 ? 1 : Buckets.Max(b => b.Count);
        var text = new StringBuilder();
        foreach (var bucket in Buckets)
        {
            string range = bucket.Min == bucket.Max ? $"{bucket.Min}" : $"{bucket.Min}-{bucket.Max}";
            int bar = (int)System.Math.Max(1, bucket.Count * barWidth / most);
            text.Append($"{range,13} {bucket.Count,8} {new string('█', bar)}\n");
        }

        return text.ToString().TrimEnd('\n');
    }

    public override string ToString() => string.Join(", ", Buckets.Select(b => $"{(b.Min == b.Max ? $"{b.Min}" : $"{b.Min}-{b.Max}")}: {b.Count}"));
}

/// <summary>
/// What one thread's epoll waits did over a measurement, aggregated in the kernel: how many, how they returned, how
/// many events each wakeup brought, how long each blocked, and how long the thread took between a return and its
/// next wait (its handlers: the event loop's lag). Plain properties, so that it survives serialization.
/// </summary>
public sealed class EpollWaitStatistics
{
    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int ThreadId { get; init; }

    public string ThreadName { get; init; } = string.Empty;

    /// <summary>The epoll fd of the thread's last wait.</summary>
    public int? EpollFd { get; init; }

    /// <summary>How long it was measured, in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>Waits that returned (epoll_wait, epoll_pwait, epoll_pwait2).</summary>
    public long Calls { get; init; }

    /// <summary>Waits that returned events.</summary>
    public long WithEvents { get; init; }

    /// <summary>Waits with a timeout that passed with no event.</summary>
    public long TimedOut { get; init; }

    /// <summary>Waits with a zero timeout: polls, not waits.</summary>
    public long ZeroTimeout { get; init; }

    /// <summary>Waits that failed, EINTR among them.</summary>
    public long Errors { get; init; }

    /// <summary>Waits a signal interrupted (EINTR).</summary>
    public long Interrupted { get; init; }

    /// <summary>Events returned by each wait (0 for a timeout).</summary>
    public Log2Histogram EventsPerWakeup { get; init; } = new(Enumerable.Empty<HistogramBucket>());

    /// <summary>Time in each wait, in microseconds.</summary>
    public Log2Histogram BlockedMicroseconds { get; init; } = new(Enumerable.Empty<HistogramBucket>());

    /// <summary>Time from a wait's return to the thread's next wait, in microseconds: what its handlers took.</summary>
    public Log2Histogram HandlerMicroseconds { get; init; } = new(Enumerable.Empty<HistogramBucket>());

    /// <summary>What stands out, in words (a loop that polls instead of sleeping); null when nothing does.</summary>
    public string? Finding { get; init; }

    public override string ToString() => $"{ProcessId}/{ThreadId} {Calls} waits, {WithEvents} with events, {TimedOut} timed out, {ZeroTimeout} zero-timeout";
}
