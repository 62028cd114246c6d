using System;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>
/// Lets another thread end a blocking wait at once: the waiter polls this eventfd beside the fd it waits on,
/// so Ctrl+C needs no timed polling loop. The same mechanism tells waiters that the object they wait on is being
/// closed (the closing signal of <see cref="CancellablePoll.Wait"/>).
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

    internal void ThrowIfCancelled()
    {
        if (_cancelled)
        {
            throw new OperationCanceledException("The wait was cancelled.");
        }
    }
}
