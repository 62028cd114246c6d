namespace EpollTools.Core.Native;

/// <summary>
/// An owned fd that other threads may be blocked on. Closing it wakes them (each blocking wait polls the close
/// signal beside the fd) and marks it closed at once; the fd itself is closed when the last of them releases its
/// reference to the handle, so its number cannot be reused under a waiter.
/// </summary>
internal sealed class WaitableFd
{
    private readonly object _gate = new();
    private volatile bool _closing;
    private WaitCanceller? _closeSignal;

    public WaitableFd(int fd) => Handle = new FileDescriptorHandle(fd);

    public FileDescriptorHandle Handle { get; }

    /// <summary>True from the moment <see cref="Close"/> is called, also while a waiter still holds the fd.</summary>
    public bool IsClosed => _closing || Handle.IsClosed;

    /// <summary>The signal a blocking wait polls beside the fd, made on the first such wait; null once closing.</summary>
    public WaitCanceller? CloseSignal()
    {
        lock (_gate)
        {
            return _closing ? null : _closeSignal ??= new WaitCanceller();
        }
    }

    /// <summary>Wakes the waiters and closes (once they are out); false if it was closed already.</summary>
    public bool Close()
    {
        WaitCanceller? signal;
        lock (_gate)
        {
            if (_closing)
            {
                return false;
            }

            _closing = true;
            signal = _closeSignal;
        }

        signal?.Cancel();
        Handle.Dispose();
        signal?.Dispose();
        return true;
    }
}
