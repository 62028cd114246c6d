using System;
using System.Runtime.InteropServices;

namespace EpollTools.Core.Native;

/// <summary>The libc calls the module makes; nothing else in the module calls native code.</summary>
internal static unsafe class NativeMethods
{
    private const string Libc = "libc";

    [DllImport(Libc, SetLastError = true)]
    internal static extern int epoll_create1(int flags);

    /// <summary><paramref name="ev"/> points at one event laid out as <see cref="EpollEventLayout"/> says.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int poll(PollFd* fds, nuint nfds, int timeout);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int close(int fd);

    [DllImport(Libc, SetLastError = true)]
    internal static extern nint read(int fd, byte* buf, nuint count);

    [DllImport(Libc, SetLastError = true)]
    internal static extern nint write(int fd, byte* buf, nuint count);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int pipe2(int* fds, int flags);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int eventfd(uint initval, int flags);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int timerfd_create(int clockid, int flags);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int timerfd_settime(int fd, int flags, ITimerSpec* newValue, ITimerSpec* oldValue);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int timerfd_gettime(int fd, ITimerSpec* currValue);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int socketpair(int domain, int type, int protocol, int* sv);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int fcntl(int fd, int cmd, int arg);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int dup(int fd);

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ITimerSpec
    {
        public TimeSpec Interval;
        public TimeSpec Value;
    }
}
