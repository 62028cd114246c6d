using System;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core;

/// <summary>What kind of file an fd opened by the module refers to.</summary>
public enum FdKind
{
    Unknown,
    EventFd,
    TimerFd,
    PipeReadEnd,
    PipeWriteEnd,
    Socket,
    Epoll,
}

/// <summary>
/// An fd opened by the module (eventfd, timerfd, pipe end, socket): owns it, closes it on Dispose, and offers the
/// read, write and O_NONBLOCK operations that make it easy to drive epoll events by hand.
/// </summary>
public class LinuxFd : IDisposable
{
    private const int ChunkSize = 4096; // PIPE_BUF: a write this size never blocks once POLLOUT is reported.

    private readonly WaitableFd _fd;

    protected LinuxFd(int fd, FdKind kind)
    {
        _fd = new WaitableFd(fd);
        Fd = fd;
        Kind = kind;
        OwnerPid = Environment.ProcessId;
        Target = ProcFiles.FdFiles.ReadLink(Environment.ProcessId, fd) ?? "?";
    }

    /// <summary>The fd number in this process.</summary>
    public int Fd { get; }

    public FdKind Kind { get; }

    /// <summary>The process that opened it.</summary>
    public int OwnerPid { get; }

    /// <summary>What /proc/self/fd shows for it when it was opened, e.g. "pipe:[1234]".</summary>
    public string Target { get; }

    /// <summary>True from the moment Dispose is called, also while a read or write on another thread still holds the fd.</summary>
    public bool IsClosed => _fd.IsClosed;

    /// <summary>The owned fd with its close signal, for waits that hold it (<see cref="FdHolds"/>).</summary>
    internal WaitableFd Waitable => _fd;

    /// <summary>Whether O_NONBLOCK is set now; null once closed.</summary>
    public bool? NonBlocking => IsClosed ? null : (GetStatusFlags() & OpenFlags.O_NONBLOCK) != 0;

    public void SetNonBlocking(bool enable)
    {
        int flags = GetStatusFlags();
        int wanted = enable ? flags | OpenFlags.O_NONBLOCK : flags & ~OpenFlags.O_NONBLOCK;
        if (wanted != flags && NativeMethods.fcntl(LiveFd(), OpenFlags.F_SETFL, wanted) < 0)
        {
            throw LinuxErrorException.FromLastError("fcntl(F_SETFL)", Fd);
        }
    }

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes. On a blocking fd, waits (cancellably) for data first;
    /// on a non-blocking fd with nothing to read, throws EAGAIN as the kernel reports it.
    /// Returns an empty array at end of file.
    /// </summary>
    public unsafe byte[] Read(int count, WaitCanceller? canceller = null)
    {
        if (count <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The byte count must be positive.");
        }

        WaitIfBlocking(PollConstants.POLLIN, canceller);
        var buffer = new byte[count];
        nint n;
        fixed (byte* p = buffer)
        {
            n = Transfer(p, count, isWrite: false);
        }

        Array.Resize(ref buffer, (int)n);
        return buffer;
    }

    /// <summary>
    /// Writes all of <paramref name="data"/>, waiting (cancellably) for room on a blocking fd. On a non-blocking fd
    /// that is full, stops and returns how much was written; throws EAGAIN if nothing could be written.
    /// </summary>
    public unsafe int Write(ReadOnlySpan<byte> data, WaitCanceller? canceller = null)
    {
        int written = 0;
        while (written < data.Length)
        {
            WaitIfBlocking(PollConstants.POLLOUT, canceller);
            int chunk = Math.Min(ChunkSize, data.Length - written);
            nint n;
            try
            {
                fixed (byte* p = data.Slice(written))
                {
                    n = Transfer(p, chunk, isWrite: true);
                }
            }
            catch (LinuxErrorException e) when (e.Errno == Errno.EAGAIN && written > 0)
            {
                break;
            }

            written += (int)n;
        }

        return written;
    }

    public void Close() => Dispose();

    /// <summary>
    /// Closes the fd. A blocking read or write waiting on it in another thread ends at once with
    /// <see cref="ObjectDisposedException"/>; the fd itself is closed when it has left the kernel, so its number cannot
    /// be reused under it.
    /// </summary>
    public void Dispose()
    {
        _fd.Close();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"fd {Fd} ({Kind}{(IsClosed ? ", closed" : string.Empty)})";

    /// <summary>Reads the 8-byte counter of an eventfd or timerfd.</summary>
    protected unsafe ulong ReadCounter(WaitCanceller? canceller)
    {
        WaitIfBlocking(PollConstants.POLLIN, canceller);
        ulong value = 0;
        Transfer((byte*)&value, sizeof(ulong), isWrite: false);
        return value;
    }

    /// <summary>The fd number, or ObjectDisposedException once closed.</summary>
    protected int LiveFd()
    {
        return IsClosed ? throw ClosedError() : Fd;
    }

    private ObjectDisposedException ClosedError() => new(ToString(), $"fd {Fd} was closed.");

    /// <summary>One read(2) or write(2), retried on EINTR, with the fd kept open for the duration.</summary>
    protected unsafe nint Transfer(byte* buffer, int count, bool isWrite)
    {
        LiveFd();
        using var inUse = HandleInUse.Take(_fd.Handle);
        while (true)
        {
            nint rc = isWrite
                ? NativeMethods.write(Fd, buffer, (nuint)count)
                : NativeMethods.read(Fd, buffer, (nuint)count);
            if (rc >= 0)
            {
                return rc;
            }

            var error = LinuxErrorException.FromLastError(isWrite ? "write" : "read", Fd);
            if (error.Errno != Errno.EINTR)
            {
                throw error;
            }
        }
    }

    /// <summary>
    /// Refuses a read of an fd open only for writing, or the reverse, before anything waits: poll(2) would never
    /// report such an fd ready (a pipe's read end never becomes writable), so a blocking call would hang where
    /// read(2)/write(2) fail at once. On a blocking fd, then waits (cancellably) until it is ready, or until another
    /// thread closes it.
    /// </summary>
    private void WaitIfBlocking(short pollEvents, WaitCanceller? canceller)
    {
        bool isWrite = pollEvents == PollConstants.POLLOUT;
        int flags = GetStatusFlags();
        if (isWrite ? !Parsing.FlagNames.CanWrite(flags) : !Parsing.FlagNames.CanRead(flags))
        {
            throw new FdAccessModeException(Fd, Kind, isWrite);
        }

        if ((flags & OpenFlags.O_NONBLOCK) != 0)
        {
            return;
        }

        using var inUse = HandleInUse.Take(_fd.Handle);
        var closing = _fd.CloseSignal() ?? throw ClosedError();
        if (CancellablePoll.Wait(Fd, pollEvents, -1, canceller, closing) == WaitOutcome.Closed)
        {
            throw new ObjectDisposedException(ToString(), $"fd {Fd} was closed while a {(isWrite ? "write" : "read")} waited on it.");
        }
    }

    private int GetStatusFlags()
    {
        int flags = NativeMethods.fcntl(LiveFd(), OpenFlags.F_GETFL, 0);
        if (flags < 0)
        {
            throw LinuxErrorException.FromLastError("fcntl(F_GETFL)", Fd);
        }

        return flags;
    }
}

/// <summary>A read of an fd open only for writing, or a write of one open only for reading (EBADF from the kernel).</summary>
public sealed class FdAccessModeException : InvalidOperationException
{
    public FdAccessModeException(int fd, FdKind kind, bool write)
        : base(write
            ? $"fd {fd} ({kind}) is open for reading only: it cannot be written (write(2) fails with EBADF)."
            : $"fd {fd} ({kind}) is open for writing only: it cannot be read (read(2) fails with EBADF).")
    {
        Fd = fd;
        Kind = kind;
        Write = write;
    }

    public int Fd { get; }

    public FdKind Kind { get; }

    /// <summary>True when a write was refused, false for a read.</summary>
    public bool Write { get; }
}
