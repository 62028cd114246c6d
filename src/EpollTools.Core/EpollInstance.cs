using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.CompilerServices;
using EpollTools.Core.Native;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core;

/// <summary>
/// An epoll instance created by this process (epoll_create1). Owns its fd, and keeps the registrations made
/// through it so that they can be listed and events mapped back to fds.
/// </summary>
public sealed class EpollInstance : IDisposable
{
    private readonly WaitableFd _fd;
    private readonly RegistrationTable _registrations = new();
    private readonly object _gate = new();

    private EpollInstance(int fd, bool closeOnExec)
    {
        _fd = new WaitableFd(fd);
        Fd = fd;
        CloseOnExec = closeOnExec;
        OwnerPid = Environment.ProcessId;
        CreatedAt = DateTime.Now;
    }

    /// <summary>The largest maxevents epoll_wait accepts: INT_MAX / sizeof(struct epoll_event) (fs/eventpoll.c EP_MAX_EVENTS).</summary>
    public static int MaxEventsLimit => int.MaxValue / EpollEventLayout.Current.Size;

    public int Fd { get; }

    public int OwnerPid { get; }

    public bool CloseOnExec { get; }

    public DateTime CreatedAt { get; }

    /// <summary>True from the moment Dispose is called, also while a wait on another thread still holds the fd.</summary>
    public bool IsClosed => _fd.IsClosed;

    /// <summary>The owned fd with its close signal, for waits that hold it (<see cref="FdHolds"/>).</summary>
    internal WaitableFd Waitable => _fd;

    /// <summary>The registrations made through this object, by fd.</summary>
    public IReadOnlyList<EpollRegistration> Registrations
    {
        get
        {
            lock (_gate)
            {
                return _registrations.ToArray();
            }
        }
    }

    public int RegistrationCount
    {
        get
        {
            lock (_gate)
            {
                return _registrations.Count;
            }
        }
    }

    public static EpollInstance Create(bool closeOnExec = true)
    {
        int fd = NativeMethods.epoll_create1(closeOnExec ? EpollConstants.EPOLL_CLOEXEC : 0);
        return fd < 0 ? throw LinuxErrorException.FromLastError("epoll_create1") : new EpollInstance(fd, closeOnExec);
    }

    /// <summary>EPOLL_CTL_ADD.</summary>
    public EpollRegistration Add(int fd, EpollEvents events, ulong data)
    {
        Control(EpollConstants.EPOLL_CTL_ADD, "EPOLL_CTL_ADD", fd, events, data);
        var registration = new EpollRegistration(fd, events, data);
        lock (_gate)
        {
            _registrations.Set(registration);
        }

        return registration;
    }

    /// <summary>EPOLL_CTL_MOD: replaces the mask and the data, and re-arms a ONESHOT registration.</summary>
    public EpollRegistration Modify(int fd, EpollEvents events, ulong data)
    {
        Control(EpollConstants.EPOLL_CTL_MOD, "EPOLL_CTL_MOD", fd, events, data);
        lock (_gate)
        {
            var registration = _registrations.Get(fd);
            if (registration is null)
            {
                // Registered by other code (or inherited); start tracking it now.
                registration = new EpollRegistration(fd, events, data);
                _registrations.Set(registration);
            }

            registration.Events = events;
            registration.Data = data;
            registration.Armed = true;
            return registration;
        }
    }

    /// <summary>EPOLL_CTL_DEL.</summary>
    public void Remove(int fd)
    {
        Control(EpollConstants.EPOLL_CTL_DEL, "EPOLL_CTL_DEL", fd, EpollEvents.None, 0);
        lock (_gate)
        {
            _registrations.Remove(fd);
        }
    }

    /// <summary>The registration made through this object for <paramref name="fd"/>, if any.</summary>
    public EpollRegistration? FindRegistration(int fd)
    {
        lock (_gate)
        {
            return _registrations.Get(fd);
        }
    }

    /// <summary>
    /// epoll_wait: -1 waits until an event, 0 returns at once, &gt;0 waits at most that many milliseconds.
    /// Returns no events on timeout. EINTR is retried with the time left. With a <paramref name="canceller"/>,
    /// the wait ends with <see cref="OperationCanceledException"/> as soon as it is cancelled. A wait that can block
    /// ends with <see cref="EpollInstanceClosedException"/> as soon as another thread closes the instance.
    /// </summary>
    public unsafe IReadOnlyList<EpollEvent> Wait(int maxEvents, int timeoutMs, WaitCanceller? canceller = null)
    {
        if (maxEvents <= 0 || maxEvents > MaxEventsLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxEvents), maxEvents, $"maxevents must be between 1 and {MaxEventsLimit}.");
        }

        // Only a positive timeout needs the clock (for the time left after EINTR); reading it costs a tenth of the wait.
        long started = timeoutMs > 0 ? Stopwatch.GetTimestamp() : 0;
        HandleInUse inUse;
        try
        {
            inUse = HandleInUse.Take(_fd.Handle);
        }
        catch (ObjectDisposedException)
        {
            throw new EpollInstanceClosedException(Fd);
        }

        byte[]? buffer = null;
        try
        {
            ThrowIfClosing();
            var layout = EpollEventLayout.Current;
            int slots = KernelMaxEvents(maxEvents);
            buffer = TakeBuffer(slots * layout.Size);
            while (true)
            {
                int waitMs = CancellablePoll.RemainingMs(timeoutMs, started);
                if (waitMs != 0)
                {
                    // Block in poll(2) on the epoll fd (readable while events are ready), the canceller, and the
                    // signal Dispose raises: a close from another thread ends the wait instead of leaving it blocked.
                    var closing = _fd.CloseSignal() ?? throw new EpollInstanceClosedException(Fd);
                    var outcome = CancellablePoll.Wait(Fd, PollConstants.POLLIN, waitMs, canceller, closing);
                    if (outcome == WaitOutcome.Closed)
                    {
                        throw new EpollInstanceClosedException(Fd);
                    }

                    if (outcome == WaitOutcome.TimedOut)
                    {
                        return Array.Empty<EpollEvent>();
                    }

                    waitMs = 0;
                }

                int n;
                fixed (byte* p = buffer)
                {
                    n = NativeMethods.epoll_wait(Fd, p, slots, waitMs);
                }

                if (n < 0)
                {
                    var error = LinuxErrorException.FromLastError("epoll_wait", Fd);
                    if (error.Errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw error;
                }

                // After poll said ready, another waiter may have taken the events: wait for the time left.
                if (n == 0 && CancellablePoll.RemainingMs(timeoutMs, started) != 0)
                {
                    continue;
                }

                return Decode(buffer, n, layout);
            }
        }
        finally
        {
            ReturnBuffer(buffer);
            inUse.Dispose();
        }
    }

    public void Close() => Dispose();

    /// <summary>
    /// Closes the instance. Waits in progress on other threads end at once with <see cref="EpollInstanceClosedException"/>;
    /// the fd itself is closed when the last of them has left the kernel, so its number cannot be reused under them.
    /// </summary>
    public void Dispose()
    {
        if (!_fd.Close())
        {
            return;
        }

        lock (_gate)
        {
            _registrations.Clear();
            _waitBuffer = null;
        }
    }

    public override string ToString() => $"epoll fd {Fd} ({RegistrationCount} registered{(IsClosed ? ", closed" : string.Empty)})";

    /// <summary>A wait buffer up to this size (5,461 events on x86-64) is kept for the next wait; a larger one is not.</summary>
    private const int RetainedBufferBytes = 64 * 1024;

    // One buffer per instance, reused by every wait (a concurrent second wait simply gets a new one).
    private byte[]? _waitBuffer;

    private byte[] TakeBuffer(int size)
    {
        var buffer = System.Threading.Interlocked.Exchange(ref _waitBuffer, null);
        return buffer is not null && buffer.Length >= size ? buffer : new byte[size];
    }

    private void ReturnBuffer(byte[]? buffer)
    {
        if (buffer is null || buffer.Length > RetainedBufferBytes)
        {
            return;
        }

        // No lock on this hot path: a buffer returned while Dispose runs may outlive the close, but it is small.
        if (!IsClosed)
        {
            _waitBuffer = buffer;
        }
    }

    /// <summary>
    /// The maxevents to hand the kernel. One epoll_wait reports each registration at most once, so a buffer larger
    /// than the interest list is never filled: past what a retained buffer holds, the request is cut to the number of
    /// registrations the kernel lists for this instance (a registration added by another thread meanwhile is reported
    /// by the next wait). A 16-million-event request on a handful of fds then costs a few bytes, not 192 MiB.
    /// </summary>
    private int KernelMaxEvents(int requested)
    {
        if ((long)requested * EpollEventLayout.Current.Size <= RetainedBufferBytes)
        {
            return requested;
        }

        int registered = ProcFiles.FdFiles.CountEpollRegistrations(Environment.ProcessId, Fd) ?? requested;
        return Math.Clamp(registered, 1, requested);
    }

    private void ThrowIfClosing()
    {
        if (IsClosed)
        {
            throw new EpollInstanceClosedException(Fd);
        }
    }

    private IReadOnlyList<EpollEvent> Decode(byte[] buffer, int count, EpollEventLayout layout)
    {
        if (count == 0)
        {
            return Array.Empty<EpollEvent>();
        }

        var events = new EpollEvent[count];
        lock (_gate)
        {
            // Closed while the kernel was handing these over: the registrations are gone, and so is the instance.
            ThrowIfClosing();
            for (int i = 0; i < count; i++)
            {
                var (mask, data) = layout.Read(buffer.AsSpan(i * layout.Size, layout.Size));
                var registration = FindByData(data);
                if (registration is not null && (registration.Events & EpollEvents.OneShot) != 0)
                {
                    registration.Armed = false;
                }

                events[i] = new EpollEvent(this, registration, mask, data);
            }
        }

        return events;
    }

    private EpollRegistration? FindByData(ulong data)
    {
        // The default data is the fd itself, so try that first; custom data needs a scan.
        var byFd = data <= int.MaxValue ? _registrations.Get((int)data) : null;
        return byFd is not null && byFd.Data == data ? byFd : _registrations.FindByData(data);
    }

    [SkipLocalsInit] // the event is written whole below; zeroing it first would be a memset call per epoll_ctl
    private unsafe void Control(int op, string opName, int fd, EpollEvents events, ulong data)
    {
        if (IsClosed)
        {
            throw new EpollInstanceClosedException(Fd);
        }

        var layout = EpollEventLayout.Current;
        byte* ev = stackalloc byte[EpollEventLayout.MaxSize];
        layout.Write(new Span<byte>(ev, layout.Size), events, data);
        using var inUse = HandleInUse.Take(_fd.Handle);
        if (NativeMethods.epoll_ctl(Fd, op, fd, ev) < 0)
        {
            throw LinuxErrorException.FromLastError($"epoll_ctl({opName})", fd);
        }
    }
}
