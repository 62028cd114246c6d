using System.Linq;

namespace EpollTools.Core.Proc;

/// <summary>
/// What one thread's waits of one call on one instance did over a measurement, aggregated in the kernel: how many,
/// how they returned, how many events each wakeup brought, how long each blocked, and how long the thread took
/// between a return and its next wait (its handlers: the event loop's lag). Plain properties, so that it survives
/// serialization.
/// </summary>
public sealed class MultiplexerWaitStatistics
{
    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int ThreadId { get; init; }

    public string ThreadName { get; init; } = string.Empty;

    /// <summary>The call: epoll_wait, epoll_pwait, epoll_pwait2, poll, ppoll, select or pselect6.</summary>
    public string Call { get; init; } = string.Empty;

    /// <summary>The epoll instance waited on (an epoll call's); null for poll and select.</summary>
    public int? EpollFd { get; init; }

    /// <summary>How long it was measured, in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>Waits that returned.</summary>
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

    /// <summary>Events returned by each wait: epoll's events, poll's fds with revents, select's bits set (0 for a timeout).</summary>
    public Log2Histogram EventsPerWakeup { get; init; } = new(Enumerable.Empty<HistogramBucket>());

    /// <summary>Time in each wait, in microseconds.</summary>
    public Log2Histogram BlockedMicroseconds { get; init; } = new(Enumerable.Empty<HistogramBucket>());

    /// <summary>Time from a wait's return to the thread's next wait, in microseconds: what its handlers took.</summary>
    public Log2Histogram HandlerMicroseconds { get; init; } = new(Enumerable.Empty<HistogramBucket>());

    /// <summary>What stands out, in words (a loop that polls instead of sleeping); null when nothing does.</summary>
    public string? Finding { get; init; }

    public override string ToString() => $"{ProcessId}/{ThreadId} {Call}: {Calls} waits, {WithEvents} with events, {TimedOut} timed out, {ZeroTimeout} zero-timeout";
}
