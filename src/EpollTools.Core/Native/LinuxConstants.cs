// Every kernel and libc constant the module uses, defined once and named as in the headers it comes from (this file,
// and NetworkConstants.cs for sockets and netlink). Values are the x86-64 / arm64 (asm-generic) ones; both
// architectures agree on everything here except where a constant says otherwise (four open flags, and the system
// call numbers, which are given per table).
namespace EpollTools.Core.Native;

/// <summary>Error numbers: include/uapi/asm-generic/errno-base.h and errno.h.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOSPC = 28;
    public const int EPIPE = 32;
    public const int ENOSYS = 38;
    public const int ELOOP = 40;
}

/// <summary>epoll_ctl operations and epoll_create1 flags: include/uapi/linux/eventpoll.h.</summary>
public static class EpollConstants
{
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;

    /// <summary>EPOLL_CLOEXEC is defined as O_CLOEXEC.</summary>
    public const int EPOLL_CLOEXEC = OpenFlags.O_CLOEXEC;

    /// <summary>The kernel refuses nesting deeper than this (fs/eventpoll.c EP_MAX_NESTS).</summary>
    public const int EP_MAX_NESTS = 4;
}

/// <summary>open(2)/fcntl(2) flags and commands: include/uapi/asm-generic/fcntl.h (octal there).</summary>
public static class OpenFlags
{
    public const int O_ACCMODE = 3;          // 00000003
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;         // 00000100
    public const int O_EXCL = 0x80;          // 00000200
    public const int O_NOCTTY = 0x100;       // 00000400
    public const int O_TRUNC = 0x200;        // 00001000
    public const int O_APPEND = 0x400;       // 00002000
    public const int O_NONBLOCK = 0x800;     // 00004000
    public const int O_DSYNC = 0x1000;       // 00010000
    public const int FASYNC = 0x2000;        // 00020000
    public const int O_NOATIME = 0x40000;    // 01000000
    public const int O_CLOEXEC = 0x80000;    // 02000000
    public const int __O_SYNC = 0x100000;    // 04000000
    public const int O_PATH = 0x200000;      // 010000000
    public const int __O_TMPFILE = 0x400000; // 020000000

    // These four differ by architecture: asm-generic (x86-64) values, then arch/arm64/include/uapi/asm/fcntl.h.
    public static int O_DIRECT => IsArm64 ? 0x10000 : 0x4000;        // 0200000 : 040000
    public static int O_LARGEFILE => IsArm64 ? 0x20000 : 0x8000;     // 0400000 : 0100000
    public static int O_DIRECTORY => IsArm64 ? 0x4000 : 0x10000;     // 040000 : 0200000
    public static int O_NOFOLLOW => IsArm64 ? 0x8000 : 0x20000;      // 0100000 : 0400000

    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int FD_CLOEXEC = 1;

    private static bool IsArm64 => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64;
}

/// <summary>eventfd2 flags: include/uapi/linux/eventfd.h (EFD_CLOEXEC = O_CLOEXEC, EFD_NONBLOCK = O_NONBLOCK).</summary>
public static class EventFdFlags
{
    public const int EFD_SEMAPHORE = 1;
    public const int EFD_CLOEXEC = OpenFlags.O_CLOEXEC;
    public const int EFD_NONBLOCK = OpenFlags.O_NONBLOCK;
}

/// <summary>timerfd flags: include/uapi/linux/timerfd.h; clock ids: include/uapi/linux/time.h.</summary>
public static class TimerFdFlags
{
    public const int TFD_TIMER_ABSTIME = 1;
    public const int TFD_CLOEXEC = OpenFlags.O_CLOEXEC;
    public const int TFD_NONBLOCK = OpenFlags.O_NONBLOCK;

    public const int CLOCK_REALTIME = 0;
    public const int CLOCK_MONOTONIC = 1;
    public const int CLOCK_BOOTTIME = 7;
    public const int CLOCK_REALTIME_ALARM = 8;
    public const int CLOCK_BOOTTIME_ALARM = 9;
}

/// <summary>poll(2) events: include/uapi/asm-generic/poll.h.</summary>
public static class PollConstants
{
    public const short POLLIN = 0x001;
    public const short POLLPRI = 0x002;
    public const short POLLOUT = 0x004;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;
    public const short POLLNVAL = 0x020;
    public const short POLLRDHUP = 0x2000;
}

/// <summary>kcmp(2): include/uapi/linux/kcmp.h; syscall numbers from arch/x86/entry/syscalls/syscall_64.tbl and
/// include/uapi/asm-generic/unistd.h (arm64).</summary>
public static class KcmpConstants
{
    public const int KCMP_FILE = 0;
    public const int KCMP_EPOLL_TFD = 7;

    // kcmp's results (kernel/kcmp.c kcmp_ptr; the values are documented in kcmp(2)): 3 means unequal, unordered.
    public const long Equal = 0;
    public const long Less = 1;
    public const long Greater = 2;

    public static long SYS_kcmp => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => 312,
        System.Runtime.InteropServices.Architecture.X86 => 349,
        _ => 272,
    };
}

/// <summary>Reading a directory with getdents64(2): struct linux_dirent64 (include/linux/dirent.h), lseek's whence (include/uapi/linux/fs.h).</summary>
public static class DirentConstants
{
    /// <summary>Offset of d_reclen, after u64 d_ino and s64 d_off.</summary>
    public const int RecordLengthOffset = 16;

    /// <summary>Offset of d_name, after unsigned short d_reclen and unsigned char d_type.</summary>
    public const int NameOffset = 19;

    public const int SEEK_SET = 0;
}

/// <summary>statx(2): include/uapi/linux/stat.h and include/uapi/linux/fcntl.h.</summary>
public static class StatxConstants
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_INO = 0x100;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const ulong STATX_ATTR_MOUNT_ROOT = 0x2000;   // the path is the root of a mount (Linux 5.8)

    public const int S_IFMT = 0xF000;     // 0170000
    public const int S_IFSOCK = 0xC000;   // 0140000
    public const int S_IFLNK = 0xA000;    // 0120000
    public const int S_IFREG = 0x8000;    // 0100000
    public const int S_IFBLK = 0x6000;    // 0060000
    public const int S_IFDIR = 0x4000;    // 0040000
    public const int S_IFCHR = 0x2000;    // 0020000
    public const int S_IFIFO = 0x1000;    // 0010000
    public const int S_IRUSR = 0x100;     // 0400
    public const int S_IWUSR = 0x80;      // 0200
}

/// <summary>select(2) and getrlimit(2): include/uapi/linux/posix_types.h, include/uapi/asm-generic/resource.h.</summary>
public static class SelectConstants
{
    /// <summary>__FD_SETSIZE: select can watch fds 0 to 1023 only.</summary>
    public const int FD_SETSIZE = 1024;

    public const int RLIMIT_NOFILE = 7;
}

/// <summary>
/// The multiplexing system calls by number, as /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall shows them. x86-64:
/// arch/x86/entry/syscalls/syscall_64.tbl. arm64 uses the generic table, include/uapi/asm-generic/unistd.h, which has
/// no epoll_wait, poll or select (libc calls epoll_pwait, ppoll and pselect6 there). A 32-bit x86 program on an x86-64
/// kernel calls through the i386 table, arch/x86/entry/syscalls/syscall_32.tbl, where the 32-bit time calls keep the
/// old numbers and the 64-bit time ones (Linux 5.1) are new.
/// </summary>
public static class MultiplexerSyscallNumbers
{
    public const int X64_poll = 7;
    public const int X64_select = 23;
    public const int X64_epoll_wait = 232;
    public const int X64_pselect6 = 270;
    public const int X64_ppoll = 271;
    public const int X64_epoll_pwait = 281;
    public const int X64_epoll_pwait2 = 441;

    public const int Generic_epoll_pwait = 22;
    public const int Generic_pselect6 = 72;
    public const int Generic_ppoll = 73;
    public const int Generic_epoll_pwait2 = 441;

    /// <summary>The old select: one argument, a pointer to the five (struct sel_arg_struct).</summary>
    public const int I386_select = 82;
    public const int I386__newselect = 142;
    public const int I386_poll = 168;
    public const int I386_epoll_wait = 256;
    public const int I386_pselect6 = 308;
    public const int I386_ppoll = 309;
    public const int I386_epoll_pwait = 319;
    public const int I386_pselect6_time64 = 413;
    public const int I386_ppoll_time64 = 414;
    public const int I386_epoll_pwait2 = 441;
}

/// <summary>access(2) modes: include/uapi/linux/unistd.h via glibc's unistd.h.</summary>
public static class AccessConstants
{
    /// <summary>Only whether the name can be looked up.</summary>
    public const int F_OK = 0;
}

/// <summary>
/// Task flags as /proc/&lt;pid&gt;/stat field 9 shows them (task_struct.flags): include/linux/sched.h. Kernel-internal,
/// but printed to user space and unchanged since Linux 2.6.
/// </summary>
public static class TaskFlags
{
    /// <summary>Set by do_exit before the task closes its files: from then on its fd table is going away.</summary>
    public const uint PF_EXITING = 0x00000004;

    /// <summary>A kernel thread: it has no user-space side, and its syscall file reads all zeros.</summary>
    public const uint PF_KTHREAD = 0x00200000;
}

/// <summary>The ELF identification bytes: include/uapi/linux/elf.h.</summary>
public static class ElfConstants
{
    /// <summary>e_ident[EI_CLASS]: 32- or 64-bit.</summary>
    public const int EI_CLASS = 4;
    public const byte ELFCLASS32 = 1;
    public const byte ELFCLASS64 = 2;

    /// <summary>Offset of e_machine (a u16, after the 16 e_ident bytes and the u16 e_type) in both classes.</summary>
    public const int E_MACHINE = 18;
    public const ushort EM_386 = 3;
    public const ushort EM_ARM = 40;
    public const ushort EM_X86_64 = 62;
    public const ushort EM_AARCH64 = 183;
}

/// <summary>sched_setaffinity(2): glibc's cpu_set_t holds CPU_SETSIZE (1024) bits (bits/cpu-set.h).</summary>
public static class AffinityConstants
{
    public const int CpuSetBytes = 1024 / 8;
}

/// <summary>clock_gettime(2) clocks: include/uapi/linux/time.h.</summary>
public static class ClockConstants
{
    public const int CLOCK_MONOTONIC = 1;
}

/// <summary>
/// pidfd_open(2) and pidfd_getfd(2): one number on every architecture (the shared range of
/// arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h); Linux 5.3 and 5.6.
/// </summary>
public static class PidFdConstants
{
    public const long SYS_pidfd_open = 434;
    public const long SYS_pidfd_getfd = 438;
}

/// <summary>Capabilities an exact trace needs: include/uapi/linux/capability.h (bit numbers in /proc/self/status CapEff).</summary>
public static class CapabilityConstants
{
    public const int CAP_SYS_ADMIN = 21;
    public const int CAP_PERFMON = 38;
    public const int CAP_BPF = 39;
}

/// <summary>clone(2) flags: include/uapi/linux/sched.h (clone3 passes them in struct clone_args, its first field).</summary>
public static class CloneConstants
{
    /// <summary>The new task is a thread of the caller's process, not a process of its own.</summary>
    public const ulong CLONE_THREAD = 0x00010000;
}
