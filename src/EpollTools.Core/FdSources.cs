using System;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>An eventfd(2): a 64-bit counter that is readable while non-zero.</summary>
public sealed class EventFd : LinuxFd
{
    private EventFd(int fd, bool semaphore)
        : base(fd, FdKind.EventFd) => Semaphore = semaphore;

    /// <summary>EFD_SEMAPHORE: each read takes 1 instead of the whole count.</summary>
    public bool Semaphore { get; }

    public static EventFd Create(uint initialValue = 0, bool semaphore = false, bool nonBlocking = false, bool closeOnExec = true)
    {
        int flags = (semaphore ? EventFdFlags.EFD_SEMAPHORE : 0)
            | (nonBlocking ? EventFdFlags.EFD_NONBLOCK : 0)
            | (closeOnExec ? EventFdFlags.EFD_CLOEXEC : 0);
        int fd = NativeMethods.eventfd(initialValue, flags);
        return fd < 0 ? throw LinuxErrorException.FromLastError("eventfd") : new EventFd(fd, semaphore);
    }

    /// <summary>Adds <paramref name="value"/> to the counter (write(2) of 8 bytes).</summary>
    public unsafe void Signal(ulong value, WaitCanceller? canceller = null)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BitConverter.TryWriteBytes(bytes, value);
        Write(bytes, canceller);
    }

    /// <summary>Takes the counter (or 1 in semaphore mode); EAGAIN when it is zero and the fd is non-blocking.</summary>
    public ulong ReadValue(WaitCanceller? canceller = null) => ReadCounter(canceller);
}

/// <summary>The clocks a timerfd can follow (include/uapi/linux/time.h).</summary>
public enum TimerClock
{
    Realtime = TimerFdFlags.CLOCK_REALTIME,
    Monotonic = TimerFdFlags.CLOCK_MONOTONIC,
    BootTime = TimerFdFlags.CLOCK_BOOTTIME,
    RealtimeAlarm = TimerFdFlags.CLOCK_REALTIME_ALARM,
    BootTimeAlarm = TimerFdFlags.CLOCK_BOOTTIME_ALARM,
}

/// <summary>A timerfd(2): readable once the timer has expired, the read returning the expiration count.</summary>
public sealed class TimerFd : LinuxFd
{
    private TimerFd(int fd, TimerClock clock)
        : base(fd, FdKind.TimerFd) => Clock = clock;

    public TimerClock Clock { get; }

    /// <summary>Time until the next expiration; zero when disarmed.</summary>
    public TimeSpan Remaining => GetTime().Value;

    /// <summary>The period of a repeating timer; zero for a one-shot timer.</summary>
    public TimeSpan Interval => GetTime().Interval;

    public static TimerFd Create(TimerClock clock = TimerClock.Monotonic, bool nonBlocking = false, bool closeOnExec = true)
    {
        int flags = (nonBlocking ? TimerFdFlags.TFD_NONBLOCK : 0) | (closeOnExec ? TimerFdFlags.TFD_CLOEXEC : 0);
        int fd = NativeMethods.timerfd_create((int)clock, flags);
        return fd < 0 ? throw LinuxErrorException.FromLastError("timerfd_create") : new TimerFd(fd, clock);
    }

    /// <summary>Arms the timer to expire after <paramref name="initial"/>, then every <paramref name="interval"/>
    /// (zero: once). A zero <paramref name="initial"/> disarms it.</summary>
    public unsafe void Arm(TimeSpan initial, TimeSpan interval)
    {
        if (initial < TimeSpan.Zero || interval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(initial), "Timer durations cannot be negative.");
        }

        var spec = new NativeMethods.ITimerSpec { Value = ToTimeSpec(initial), Interval = ToTimeSpec(interval) };
        if (NativeMethods.timerfd_settime(LiveFd(), 0, &spec, null) < 0)
        {
            throw LinuxErrorException.FromLastError("timerfd_settime", Fd);
        }
    }

    public void Disarm() => Arm(TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>Reads how many times the timer expired since the last read.</summary>
    public ulong ReadExpirations(WaitCanceller? canceller = null) => ReadCounter(canceller);

    private unsafe (TimeSpan Value, TimeSpan Interval) GetTime()
    {
        NativeMethods.ITimerSpec spec;
        if (NativeMethods.timerfd_gettime(LiveFd(), &spec) < 0)
        {
            throw LinuxErrorException.FromLastError("timerfd_gettime", Fd);
        }

        return (FromTimeSpec(spec.Value), FromTimeSpec(spec.Interval));
    }

    private static NativeMethods.TimeSpec ToTimeSpec(TimeSpan span)
    {
        long ticks = span.Ticks;
        return new NativeMethods.TimeSpec
        {
            Seconds = ticks / TimeSpan.TicksPerSecond,
            Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100,
        };
    }

    private static TimeSpan FromTimeSpec(NativeMethods.TimeSpec spec)
        => TimeSpan.FromTicks(spec.Seconds * TimeSpan.TicksPerSecond + spec.Nanoseconds / 100);
}

/// <summary>A pipe(2): bytes written to <see cref="WriteEnd"/> become readable on <see cref="ReadEnd"/>.</summary>
public sealed class Pipe : IDisposable
{
    private Pipe(PipeEnd readEnd, PipeEnd writeEnd)
    {
        ReadEnd = readEnd;
        WriteEnd = writeEnd;
    }

    public PipeEnd ReadEnd { get; }

    public PipeEnd WriteEnd { get; }

    public static unsafe Pipe Create(bool nonBlocking = false, bool closeOnExec = true)
    {
        int* fds = stackalloc int[2];
        int flags = (nonBlocking ? OpenFlags.O_NONBLOCK : 0) | (closeOnExec ? OpenFlags.O_CLOEXEC : 0);
        if (NativeMethods.pipe2(fds, flags) < 0)
        {
            throw LinuxErrorException.FromLastError("pipe2");
        }

        return new Pipe(new PipeEnd(fds[0], FdKind.PipeReadEnd), new PipeEnd(fds[1], FdKind.PipeWriteEnd));
    }

    public void Dispose()
    {
        ReadEnd.Dispose();
        WriteEnd.Dispose();
    }

    public override string ToString() => $"pipe (read fd {ReadEnd.Fd}, write fd {WriteEnd.Fd})";
}

/// <summary>One end of a <see cref="Pipe"/>.</summary>
public sealed class PipeEnd : LinuxFd
{
    internal PipeEnd(int fd, FdKind kind)
        : base(fd, kind)
    {
    }
}

/// <summary>A connected pair of AF_UNIX sockets (socketpair(2)): what one end writes, the other reads.</summary>
public sealed class SocketPair : IDisposable
{
    private SocketPair(SocketEnd first, SocketEnd second)
    {
        First = first;
        Second = second;
    }

    public SocketEnd First { get; }

    public SocketEnd Second { get; }

    public static unsafe SocketPair Create(bool datagram = false, bool nonBlocking = false, bool closeOnExec = true)
    {
        int* fds = stackalloc int[2];
        int type = (datagram ? SocketConstants.SOCK_DGRAM : SocketConstants.SOCK_STREAM)
            | (nonBlocking ? SocketConstants.SOCK_NONBLOCK : 0)
            | (closeOnExec ? SocketConstants.SOCK_CLOEXEC : 0);
        if (NativeMethods.socketpair(SocketConstants.AF_UNIX, type, 0, fds) < 0)
        {
            throw LinuxErrorException.FromLastError("socketpair");
        }

        return new SocketPair(new SocketEnd(fds[0]), new SocketEnd(fds[1]));
    }

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
    }

    public override string ToString() => $"socket pair (fds {First.Fd} and {Second.Fd})";
}

/// <summary>One end of a <see cref="SocketPair"/>.</summary>
public sealed class SocketEnd : LinuxFd
{
    internal SocketEnd(int fd)
        : base(fd, FdKind.Socket)
    {
    }
}
