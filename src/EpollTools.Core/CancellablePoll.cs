using System;
using System.Diagnostics;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>How <see cref="CancellablePoll.Wait"/> ended, short of a cancellation.</summary>
public enum WaitOutcome
{
    Ready,
    TimedOut,

    /// <summary>The object that owns the fd was closed by another thread while this one waited.</summary>
    Closed,
}

/// <summary>
/// The module's one blocking wait on a single fd: poll(2) on it beside the eventfds of a <see cref="WaitCanceller"/>
/// (Ctrl+C) and of the owner's closing signal, so that every blocking call of the module (an epoll wait, a read, a
/// write) ends at once for either, with no timed polling loop.
/// </summary>
public static class CancellablePoll
{
    /// <summary>
    /// Waits until <paramref name="fd"/> reports one of <paramref name="events"/> (poll(2) bits): Ready; the timeout
    /// passes: TimedOut; <paramref name="closing"/> is signalled (the object that owns <paramref name="fd"/> is being
    /// closed by another thread): Closed; the wait is cancelled: <see cref="OperationCanceledException"/>. EINTR is
    /// retried with the time left. The signals' eventfds are kept open while they are polled, so closing one meanwhile
    /// cannot hand its number to another file.
    /// </summary>
    public static unsafe WaitOutcome Wait(int fd, short events, int timeoutMs, WaitCanceller? canceller, WaitCanceller? closing = null)
    {
        long started = Stopwatch.GetTimestamp();
        var fds = stackalloc NativeMethods.PollFd[3];
        using var cancellerInUse = canceller is null ? default : HandleInUse.Take(canceller.EventFd);
        using var closingInUse = HandleInUse.TryTake(closing?.EventFd);
        if (closing is not null && !closingInUse.IsHeld)
        {
            return WaitOutcome.Closed; // the owner finished closing before this wait began
        }

        // poll(2) writes only revents, so the entries are set once for every retry.
        int count = 0;
        fds[count++] = new NativeMethods.PollFd { Fd = fd, Events = events };
        if (canceller is not null)
        {
            fds[count++] = new NativeMethods.PollFd { Fd = canceller.EventFd.Number, Events = PollConstants.POLLIN };
        }

        if (closing is not null)
        {
            fds[count++] = new NativeMethods.PollFd { Fd = closing.EventFd.Number, Events = PollConstants.POLLIN };
        }

        while (true)
        {
            canceller?.ThrowIfCancelled();
            if (closing is { IsCancelled: true })
            {
                return WaitOutcome.Closed;
            }

            int rc = NativeMethods.poll(fds, (nuint)count, RemainingMs(timeoutMs, started));
            if (rc < 0)
            {
                var error = LinuxErrorException.FromLastError("poll", fd);
                if (error.Errno == Errno.EINTR)
                {
                    continue;
                }

                throw error;
            }

            canceller?.ThrowIfCancelled();
            if (closing is { IsCancelled: true })
            {
                return WaitOutcome.Closed;
            }

            if (rc == 0)
            {
                return WaitOutcome.TimedOut;
            }

            if ((fds[0].REvents & PollConstants.POLLNVAL) != 0)
            {
                throw new LinuxErrorException(Errno.EBADF, "poll", fd);
            }

            return WaitOutcome.Ready;
        }
    }

    /// <summary>Milliseconds left of a timeout (-1 stays infinite) that started at <paramref name="started"/>
    /// (a <see cref="Stopwatch.GetTimestamp"/>), never negative.</summary>
    public static int RemainingMs(int timeoutMs, long started)
    {
        if (timeoutMs <= 0)
        {
            return timeoutMs < 0 ? -1 : 0;
        }

        long left = timeoutMs - (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return left > 0 ? (int)left : 0;
    }
}
