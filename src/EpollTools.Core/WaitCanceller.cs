using System;
using System.Diagnostics;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>
/// Lets another thread end a blocking wait at once: the waiter polls this eventfd beside the fd it waits on,
/// so Ctrl+C needs no timed polling loop.
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

    /// <summary>Wakes the waiter; safe to call from any thread, and after disposal.</summary>
    public unsafe void Cancel()
    {
        _cancelled = true;
        bool added = false;
        try
        {
            _eventFd.DangerousAddRef(ref added);
            ulong one = 1;
            NativeMethods.write(_eventFd.Number, (byte*)&one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // The wait is over already; nothing to wake.
        }
        finally
        {
            if (added)
            {
                _eventFd.DangerousRelease();
            }
        }
    }

    public void Dispose() => _eventFd.Dispose();

    /// <summary>
    /// Waits until <paramref name="fd"/> reports one of <paramref name="events"/> (poll(2) bits), the timeout passes
    /// (false), or the wait is cancelled (<see cref="OperationCanceledException"/>). EINTR is retried with the time left.
    /// </summary>
    public static unsafe bool WaitFor(int fd, short events, int timeoutMs, WaitCanceller? canceller)
    {
        long started = Stopwatch.GetTimestamp();
        var fds = stackalloc NativeMethods.PollFd[2];
        int count = canceller is null ? 1 : 2;
        while (true)
        {
            canceller?.ThrowIfCancelled();
            fds[0] = new NativeMethods.PollFd { Fd = fd, Events = events };
            if (canceller is not null)
            {
                fds[1] = new NativeMethods.PollFd { Fd = canceller._eventFd.Number, Events = PollConstants.POLLIN };
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
            if (rc == 0)
            {
                return false;
            }

            if ((fds[0].REvents & PollConstants.POLLNVAL) != 0)
            {
                throw new LinuxErrorException(Errno.EBADF, "poll", fd);
            }

            return true;
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

    private void ThrowIfCancelled()
    {
        if (_cancelled)
        {
            throw new OperationCanceledException("The wait was cancelled.");
        }
    }
}
