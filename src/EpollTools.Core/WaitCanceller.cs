using System;
using System.Diagnostics;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>How <see cref="WaitCanceller.WaitFor"/> ended, short of a cancellation.</summary>
public enum WaitOutcome
{
    Ready,
    TimedOut,

    /// <summary>The object that owns the fd was closed by another thread while this one waited.</summary>
    Closed,
}

/// <summary>
/// Lets another thread end a blocking wait at once: the waiter polls this eventfd beside the fd it waits on,
/// so Ctrl+C needs no timed polling loop. The same mechanism tells waiters that the object they wait on is being
/// closed (<see cref="WaitFor"/>'s closing signal).
/// </summary>
public sealed class WaitCanceller : IDisposable
{
    private readonly FileDescriptorHandle _eventFd;
    private volatile bool _cancelled;

    public WaitCanceller()
    {
        int fd = NativeMethods.eventfd(0, EventFdFlags.EFD_CLOEXEC | EventFdFlags.EFD_NONBLOCK);
        if (fd < 0)
        {
            throw LinuxErrorException.FromLastError("eventfd");
        }

        _eventFd = new FileDescriptorHandle(fd);
    }

    public bool IsCancelled => _cancelled;

    /// <summary>The eventfd a wait watches (readable once cancelled), for waits that build their own fd lists (select, poll).</summary>
    internal FileDescriptorHandle EventFd => _eventFd;

    /// <summary>Wakes the waiter; safe to call from any thread, and after disposal.</summary>
    public unsafe void Cancel()
    {
        _cancelled = true;
        using var inUse = HandleInUse.TryTake(_eventFd);
        if (inUse.IsHeld)
        {
            // (Not held: the wait is over already, and there is nothing to wake.)
            ulong one = 1;
            NativeMethods.write(_eventFd.Number, (byte*)&one, sizeof(ulong));
        }
    }

    public void Dispose() => _eventFd.Dispose();

    /// <summary>
    /// Waits until <paramref name="fd"/> reports one of <paramref name="events"/> (poll(2) bits): Ready; the timeout
    /// passes: TimedOut; <paramref name="closing"/> is signalled (the object that owns <paramref name="fd"/> is being
    /// closed by another thread): Closed; the wait is cancelled: <see cref="OperationCanceledException"/>. EINTR is
    /// retried with the time left. The signals' eventfds are kept open while they are polled, so closing one meanwhile
    /// cannot hand its number to another file.
    /// </summary>
    public static unsafe WaitOutcome WaitFor(int fd, short events, int timeoutMs, WaitCanceller? canceller, WaitCanceller? closing = null)
    {
        long started = Stopwatch.GetTimestamp();
        var fds = stackalloc NativeMethods.PollFd[3];
        using var cancellerInUse = canceller is null ? default : HandleInUse.Take(canceller._eventFd);
        using var closingInUse = HandleInUse.TryTake(closing?._eventFd);
        if (closing is not null && !closingInUse.IsHeld)
        {
            return WaitOutcome.Closed; // the owner finished closing before this wait began
        }

        // poll(2) writes only revents, so the entries are set once for every retry.
        int count = 0;
        fds[count++] = new NativeMethods.PollFd { Fd = fd, Events = events };
        if (canceller is not null)
        {
            fds[count++] = new NativeMethods.PollFd { Fd = canceller._eventFd.Number, Events = PollConstants.POLLIN };
        }

        if (closing is not null)
        {
            fds[count++] = new NativeMethods.PollFd { Fd = closing._eventFd.Number, Events = PollConstants.POLLIN };
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

    internal void ThrowIfCancelled()
    {
        if (_cancelled)
        {
            throw new OperationCanceledException("The wait was cancelled.");
        }
    }
}
