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
    internal static extern int socket(int domain, int type, int protocol);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int setns(int fd, int nstype);

    [DllImport(Libc, SetLastError = true)]
    internal static extern nint send(int fd, byte* buf, nuint len, int flags);

    [DllImport(Libc, SetLastError = true)]
    internal static extern nint recv(int fd, byte* buf, nuint len, int flags);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int fcntl(int fd, int cmd, int arg);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int dup(int fd);

    /// <summary><paramref name="readfds"/> is an fd_set: FD_SETSIZE bits in 64-bit words.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern int select(int nfds, ulong* readfds, ulong* writefds, ulong* exceptfds, TimeVal* timeout);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int getrlimit(int resource, RLimit* limit);

    [DllImport(Libc)]
    internal static extern uint geteuid();

    [DllImport(Libc)]
    internal static extern int getppid();

    [DllImport(Libc, SetLastError = true)]
    internal static extern nint readlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte* buffer, nuint size);

    /// <summary>readlinkat(2) with a NUL-terminated UTF-8 name relative to <paramref name="dirfd"/>.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern nint readlinkat(int dirfd, byte* name, byte* buffer, nuint size);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    /// <summary>getdents64(2) (glibc 2.30+): a directory's entries as struct linux_dirent64 records.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern nint getdents64(int fd, byte* buffer, nuint count);

    [DllImport(Libc, SetLastError = true)]
    internal static extern long lseek(int fd, long offset, int whence);

    /// <summary>openat(2) with a NUL-terminated UTF-8 name relative to <paramref name="dirfd"/>.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern int openat(int dirfd, byte* name, int flags);

    /// <summary>For kcmp(2), which glibc does not wrap.</summary>
    /// <summary>faccessat(2) with a NUL-terminated UTF-8 name relative to <paramref name="dirfd"/>.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern int faccessat(int dirfd, byte* name, int mode, int flags);

    [DllImport(Libc, SetLastError = true)]
    internal static extern long syscall(long number, long arg1, long arg2, long arg3, long arg4, long arg5);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, StatxBuffer* buffer);

    /// <summary>statx(2) with a NUL-terminated UTF-8 name relative to <paramref name="dirfd"/>.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern int statx(int dirfd, byte* name, int flags, uint mask, StatxBuffer* buffer);

    /// <summary>Copies another process's memory (needs ptrace attach access to it, as /proc/&lt;pid&gt;/mem does).</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern nint process_vm_readv(int pid, IoVec* localIov, nuint localCount, IoVec* remoteIov, nuint remoteCount, nuint flags);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int clock_gettime(int clockId, TimeSpec* time);

    /// <summary>The calling thread's CPU affinity (pid 0: this thread), as a cpu_set_t bit mask.</summary>
    [DllImport(Libc, SetLastError = true)]
    internal static extern int sched_getaffinity(int pid, nuint size, byte* mask);

    [DllImport(Libc, SetLastError = true)]
    internal static extern int sched_setaffinity(int pid, nuint size, byte* mask);

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct kcmp_epoll_slot: three __u32.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct KcmpEpollSlot
    {
        public uint Efd;
        public uint Tfd;
        public uint Toff;
    }

    /// <summary>struct statx (include/uapi/linux/stat.h): the same layout on every architecture, 256 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct StatxBuffer
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(8)] public ulong Attributes;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Ino;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(56)] public ulong AttributesMask;
        [FieldOffset(128)] public uint RdevMajor;
        [FieldOffset(132)] public uint RdevMinor;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

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
