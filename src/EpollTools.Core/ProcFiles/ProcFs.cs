using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.ProcFiles;

/// <summary>What statx says about a file: its type and mode bits, inode and devices.</summary>
public readonly record struct FileStatus(int Mode, ulong Ino, uint DevMajor, uint DevMinor, uint RdevMajor, uint RdevMinor)
{
    public int Type => Mode & StatxConstants.S_IFMT;

    /// <summary>What a successful statx(2) wrote.</summary>
    internal static FileStatus Of(in NativeMethods.StatxBuffer buffer)
        => new(buffer.Mode, buffer.Ino, buffer.DevMajor, buffer.DevMinor, buffer.RdevMajor, buffer.RdevMinor);
}

/// <summary>
/// A process whose /proc files cannot be read: gone, or not this caller's to read. What skips such a process (a
/// host-wide search, a process that exits mid-read) catches this one type.
/// </summary>
public abstract class ProcessUnreadableException : Exception
{
    protected ProcessUnreadableException(int pid, string message, Exception? inner)
        : base(message, inner) => Pid = pid;

    public int Pid { get; }
}

/// <summary>The process is gone (it exited, or was never there).</summary>
public sealed class ProcessGoneException : ProcessUnreadableException
{
    public ProcessGoneException(int pid, Exception? inner = null)
        : base(pid, $"Process {pid} does not exist (or exited).", inner)
    {
    }
}

/// <summary>Reading another process's fds needs ptrace read access.</summary>
public sealed class ProcessAccessDeniedException : ProcessUnreadableException
{
    public ProcessAccessDeniedException(int pid, Exception? inner = null)
        : base(pid, $"Access to the fds of process {pid} is denied.", inner)
    {
    }
}

/// <summary>Takes one line of a file read a buffer at a time; the span is valid only during the call.</summary>
public delegate void LineHandler(ReadOnlySpan<char> line);

/// <summary>
/// Reads /proc and makes the few system calls that go with it (statx, kcmp). Every method copes with processes
/// and fds that vanish while they are read: a vanished fd reads as null, a vanished process throws
/// <see cref="ProcessGoneException"/>.
/// </summary>
public static class ProcFs
{
    public const string Root = "/proc";

    /// <summary>The pids of all processes now (thread-group leaders), ascending.</summary>
    public static List<int> ListPids()
    {
        var pids = new List<int>();
        try
        {
            foreach (var entry in Directory.EnumerateDirectories(Root))
            {
                if (int.TryParse(Path.GetFileName(entry.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    pids.Add(pid);
                }
            }
        }
        catch (IOException e) when (IsOutOfFds(e))
        {
            throw OutOfFds(e, Root);
        }

        pids.Sort();
        return pids;
    }

    /// <summary>Whether the process still exists (a zombie counts: its /proc directory is there until it is reaped).</summary>
    public static bool ProcessExists(int pid) => Directory.Exists($"{Root}/{pid}/fd");

    /// <summary>A small file of /proc/&lt;pid&gt; ("stat", "status"); null if the process is gone or it cannot be read.</summary>
    public static string? ReadProcessFile(int pid, string name) => ReadTextOrNull($"{Root}/{pid}/{name}");

    /// <summary>The process name (comm, up to 15 characters); null if the process is gone.</summary>
    public static string? ReadComm(int pid) => ReadTextOrNull($"{Root}/{pid}/comm")?.TrimEnd('\n');

    /// <summary>The fds of a process with their link targets, ascending. Throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/>.</summary>
    public static List<(int Fd, string Target)> ListFds(int pid)
    {
        using var directory = FdDirectory.Open(pid);
        var fds = new List<(int, string)>();
        foreach (int fd in directory.ListFds())
        {
            if (directory.ReadLink(fd) is string target)
            {
                fds.Add((fd, target));
            }
        }

        return fds;
    }

    /// <summary>The exception .NET's own file APIs would throw for the failed open(2) of <paramref name="path"/>.</summary>
    internal static Exception OpenError(string path, bool directory)
    {
        int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return errno switch
        {
            Errno.EMFILE or Errno.ENFILE => new LinuxErrorException(errno, $"open({path})"),
            Errno.ENOENT => directory ? new DirectoryNotFoundException(path) : new FileNotFoundException(path),
            Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException(path),
            _ => new IOException($"{path}: {ErrnoNames.NameOf(errno)}", errno),
        };
    }

    /// <summary>/proc/&lt;pid&gt;/fdinfo/&lt;fd&gt;; null if the fd was closed meanwhile.</summary>
    public static string? ReadFdInfo(int pid, int fd) => FromFdInfo(pid, fd, ReadSmallFile);

    /// <summary>
    /// /proc/&lt;pid&gt;/fdinfo/&lt;fd&gt; parsed as it is read, a buffer at a time: the text of an epoll fd with
    /// 100,000 registrations (some 10 MB) is never held whole. Null if the fd was closed meanwhile.
    /// </summary>
    public static FdInfo? ParseFdInfo(int pid, int fd) => FromFdInfo(pid, fd, path =>
    {
        var parser = new FdInfoParser.LineParser();
        ReadLines(path, parser.Add);
        return parser.Result;
    });

    /// <summary>What <paramref name="read"/> makes of an fd's fdinfo file, with the failures of a process or fd mapped.</summary>
    private static T? FromFdInfo<T>(int pid, int fd, Func<string, T> read)
        where T : class
    {
        string path = $"{Root}/{pid}/fdinfo/{fd}";
        try
        {
            return read(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ProcessAccessDeniedException(pid, e);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException e)
        {
            throw new ProcessGoneException(pid, e);
        }
        catch (IOException e) when (IsOutOfFds(e))
        {
            throw OutOfFds(e, path);
        }
        catch (IOException) when (!Directory.Exists($"{Root}/{pid}"))
        {
            throw new ProcessGoneException(pid);
        }
        catch (IOException)
        {
            return null; // ESRCH while the process exits, or the fd closed between open and read.
        }
    }

    /// <summary>
    /// The link target of /proc/&lt;pid&gt;/fd/&lt;fd&gt;; null if the fd is not open (or the process is gone: callers
    /// that must tell the two apart ask <see cref="ProcessExists"/>). A link the caller may not read throws
    /// <see cref="ProcessAccessDeniedException"/>: an unreadable fd is not an absent one.
    /// </summary>
    public static string? ReadFdTarget(int pid, int fd)
    {
        string? link = ReadLink($"{Root}/{pid}/fd/{fd}", out int errno);
        return link is null && errno is Errno.EACCES or Errno.EPERM ? throw new ProcessAccessDeniedException(pid) : link;
    }

    /// <summary>How many registrations (tfd lines) the kernel lists for an epoll fd; null if it cannot be read.</summary>
    public static int? CountEpollRegistrations(int pid, int epollFd)
    {
        try
        {
            // Counted as read, a buffer at a time (an instance may print 10 MB); boxed because FromFdInfo's null is
            // the fd closed meanwhile.
            return FromFdInfo(pid, epollFd, path =>
            {
                int count = 0;
                ReadLines(path, line => count += line.StartsWith("tfd:", StringComparison.Ordinal) ? 1 : 0);
                return (object)count;
            }) as int?;
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    /// <summary>The thread ids of a process (its /proc/&lt;pid&gt;/task), ascending.</summary>
    public static List<int> ListThreads(int pid)
    {
        string dir = $"{Root}/{pid}/task";
        var tids = new List<int>();
        try
        {
            foreach (var entry in Directory.EnumerateDirectories(dir))
            {
                if (int.TryParse(Path.GetFileName(entry.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                {
                    tids.Add(tid);
                }
            }
        }
        catch (DirectoryNotFoundException e)
        {
            throw new ProcessGoneException(pid, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ProcessAccessDeniedException(pid, e);
        }
        catch (IOException e) when (IsOutOfFds(e))
        {
            throw OutOfFds(e, dir);
        }
        catch (IOException e) when (e.HResult == Errno.ESRCH || !Directory.Exists($"{Root}/{pid}"))
        {
            throw new ProcessGoneException(pid, e); // it exited while its task directory was listed
        }

        tids.Sort();
        return tids;
    }

    /// <summary>A file of /proc/thread-self (the calling thread's own task directory); null if unreadable.</summary>
    public static string? ReadThreadSelfFile(string name) => ReadTextOrNull($"{Root}/thread-self/{name}");

    /// <summary>
    /// Every thread's schedstat (time on a CPU, time waiting for one, times put on one) of <paramref name="pids"/>, in
    /// one string: the same on two reads means no thread of them ran, started or ended in between, so nothing they
    /// hold (fd tables, interest lists) changed by their own doing. A thread on a CPU now (state R) may run on with
    /// its figures not yet updated (the kernel adds a running thread's time at the next tick): then, as for a process
    /// that cannot be read, null.
    /// </summary>
    public static string? ReadRunStamp(IEnumerable<int> pids)
    {
        var stamp = new StringBuilder();
        try
        {
            foreach (int pid in pids)
            {
                foreach (int tid in ListThreads(pid))
                {
                    if (ReadTaskFile(pid, tid, "stat") is not string stat || TaskParser.ParseStatState(stat) is 'R' or null)
                    {
                        return null;
                    }

                    stamp.Append(tid).Append(' ').Append(ReadTaskFile(pid, tid, "schedstat") ?? "gone").Append('\n');
                }
            }
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }

        return stamp.ToString();
    }

    /// <summary>
    /// A file of /proc/&lt;pid&gt;/task/&lt;tid&gt; ("syscall", "stat", "wchan", "comm", "sched"); null if the thread is gone.
    /// A file the caller may not read (syscall needs ptrace attach access) throws <see cref="ProcessAccessDeniedException"/>.
    /// </summary>
    public static string? ReadTaskFile(int pid, int tid, string name)
    {
        string path = $"{Root}/{pid}/task/{tid}/{name}";
        try
        {
            return ReadSmallFile(path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ProcessAccessDeniedException(pid, e);
        }
        catch (IOException e) when (IsOutOfFds(e))
        {
            throw OutOfFds(e, path);
        }
        catch (IOException e) when (e.HResult is Errno.EACCES or Errno.EPERM)
        {
            throw new ProcessAccessDeniedException(pid, e); // a ptrace check at read time, after open succeeded
        }
        catch (IOException)
        {
            return null; // the thread (or the whole process) exited
        }
    }

    /// <summary>
    /// Copies memory of another process with process_vm_readv (which needs the ptrace attach access that
    /// /proc/&lt;pid&gt;/mem needs, and opens no fd). False if any byte could not be read.
    /// </summary>
    public static unsafe bool ReadMemory(int pid, ulong address, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return true;
        }

        fixed (byte* buffer = destination)
        {
            var local = new NativeMethods.IoVec { Base = buffer, Length = (nuint)destination.Length };
            var remote = new NativeMethods.IoVec { Base = (void*)address, Length = (nuint)destination.Length };
            return NativeMethods.process_vm_readv(pid, &local, 1, &remote, 1, 0) == destination.Length;
        }
    }

    /// <summary>
    /// The ELF class and machine of the process's executable (e_ident[EI_CLASS] and e_machine), which say which
    /// system call table it calls through; null when the executable cannot be read (kernel threads have none).
    /// </summary>
    public static unsafe (byte ElfClass, ushort Machine)? ReadElfMachine(int pid)
    {
        int fd = NativeMethods.open($"{Root}/{pid}/exe", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            return null;
        }

        using var handle = new FileDescriptorHandle(fd);
        const int headerStart = ElfConstants.E_MACHINE + sizeof(ushort);
        byte* header = stackalloc byte[headerStart];
        if (NativeMethods.read(fd, header, headerStart) != headerStart)
        {
            return null;
        }

        // e_machine is in the file's byte order; every architecture this module runs on is little-endian.
        return (header[ElfConstants.EI_CLASS], (ushort)(header[ElfConstants.E_MACHINE] | header[ElfConstants.E_MACHINE + 1] << 8));
    }

    /// <summary>CLOCK_MONOTONIC in milliseconds: the clock the scheduler's se.exec_start is kept in (near enough).</summary>
    public static unsafe double MonotonicMilliseconds()
    {
        NativeMethods.TimeSpec now;
        NativeMethods.clock_gettime(ClockConstants.CLOCK_MONOTONIC, &now);
        return now.Seconds * 1000.0 + now.Nanoseconds / 1e6;
    }

    /// <summary>The network namespace of a process, as "net:[4026531840]"; null if unreadable.</summary>
    public static string? ReadNetNamespace(int pid) => ReadLink($"{Root}/{pid}/ns/net");

    /// <summary>
    /// A file of /proc/&lt;pid&gt;/net (as that process's network namespace shows it) given to <paramref name="line"/>
    /// a line at a time as it is read (a busy host's tables run to 100,000 lines); false if it cannot be read.
    /// </summary>
    public static bool ReadNetTable(int pid, string name, LineHandler line)
    {
        string path = $"{Root}/{pid}/net/{name}";
        try
        {
            ReadLines(path, line);
            return true;
        }
        catch (IOException e) when (IsOutOfFds(e))
        {
            throw OutOfFds(e, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>statx of what /proc/&lt;pid&gt;/fd/&lt;fd&gt; refers to, or of the link itself (whose mode shows the fd's access).</summary>
    public static FileStatus? StatFd(int pid, int fd, bool link = false)
        => Statx($"{Root}/{pid}/fd/{fd}", link ? StatxConstants.AT_SYMLINK_NOFOLLOW : 0);

    /// <summary>statx of a path, following symbolic links; null if it cannot be reached.</summary>
    public static FileStatus? StatPath(string path) => Statx(path, 0);

    private static unsafe FileStatus? Statx(string path, int flags)
    {
        NativeMethods.StatxBuffer buffer;
        int rc = NativeMethods.statx(StatxConstants.AT_FDCWD, path, flags, StatxConstants.STATX_BASIC_STATS, &buffer);
        return rc < 0 ? null : FileStatus.Of(buffer);
    }

    /// <summary>
    /// kcmp(KCMP_EPOLL_TFD): whether fd <paramref name="fd"/> of <paramref name="holderPid"/> is the file registered as
    /// the <paramref name="offset"/>-th line with number <paramref name="tfd"/> in epoll fd <paramref name="epollFd"/> of
    /// <paramref name="epollPid"/>. Null when kcmp cannot tell (no permission, no CONFIG_KCMP, a fd gone).
    /// </summary>
    public static unsafe bool? SameEpollTarget(int holderPid, int fd, int epollPid, int epollFd, int tfd, int offset)
    {
        var slot = new NativeMethods.KcmpEpollSlot { Efd = (uint)epollFd, Tfd = (uint)tfd, Toff = (uint)offset };
        long rc = NativeMethods.syscall(KcmpConstants.SYS_kcmp, holderPid, epollPid, KcmpConstants.KCMP_EPOLL_TFD, fd, (long)&slot);
        return rc < 0 ? null : rc == 0;
    }

    /// <summary>kcmp(KCMP_FILE): whether two fds (of the same or two processes) are the same open file; null if unknown.</summary>
    public static bool? SameFile(int pid1, int fd1, int pid2, int fd2) => CompareFiles(pid1, fd1, pid2, fd2) is int order ? order == 0 : null;

    /// <summary>
    /// kcmp(KCMP_FILE) as an ordering: 0 for the same open file, else -1 or 1 by the kernel's (obfuscated, but
    /// consistent) order of the two files, so that fds can be sorted and equal files found next to each other.
    /// Null if kcmp cannot tell (no permission, no CONFIG_KCMP, an fd gone, or no order given).
    /// </summary>
    public static int? CompareFiles(int pid1, int fd1, int pid2, int fd2)
    {
        long rc = NativeMethods.syscall(KcmpConstants.SYS_kcmp, pid1, pid2, KcmpConstants.KCMP_FILE, fd1, fd2);
        return rc switch
        {
            KcmpConstants.Equal => 0,
            KcmpConstants.Less => -1,
            KcmpConstants.Greater => 1,
            _ => null,
        };
    }

    /// <summary>readlink(2) straight into a stack buffer: this runs once per fd, so no FileInfo per call.</summary>
    internal static string? ReadLink(string path) => ReadLink(path, out _);

    private static unsafe string? ReadLink(string path, out int errno)
    {
        const int size = 4096; // PATH_MAX
        byte* buffer = stackalloc byte[size];
        nint length = NativeMethods.readlink(path, buffer, size);
        errno = length < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
        return length < 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, (int)length);
    }

    /// <summary>EMFILE or ENFILE, as .NET's own file APIs report them (IOException with the errno as HResult) or ours do.</summary>
    private static bool IsOutOfFds(IOException e) => e.HResult is Errno.EMFILE or Errno.ENFILE;

    /// <summary>
    /// The fd limit reached while reading /proc: never to be mistaken for a process that is gone or an fd that was
    /// closed, so it is raised as the <see cref="LinuxErrorException"/> it is.
    /// </summary>
    private static LinuxErrorException OutOfFds(IOException e, string path) => e as LinuxErrorException ?? new LinuxErrorException(e.HResult, $"open({path})");

    /// <summary>The size of the buffer /proc files are read with: most fit in one read.</summary>
    private const int ReadBufferSize = 64 * 1024;

    [ThreadStatic]
    private static byte[]? _readBuffer;

    /// <summary>
    /// Reads a /proc file whole with one reusable buffer (one string allocated per call). /proc files report size 0,
    /// so they are read until end of file. A buffer grown for a large file is let go afterwards.
    /// </summary>
    private static string ReadSmallFile(string path)
    {
        using var handle = OpenForReading(path);
        return ReadWhole(handle, path);
    }

    /// <summary>The rest of an open /proc file, as <see cref="ReadSmallFile"/> reads it; <paramref name="path"/> names it in errors.</summary>
    internal static string ReadWhole(FileDescriptorHandle handle, string path)
    {
        var buffer = _readBuffer ??= new byte[ReadBufferSize];
        int used = 0;
        while (true)
        {
            if (used == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            int n = Read(handle, buffer.AsSpan(used), path);
            if (n == 0)
            {
                return System.Text.Encoding.UTF8.GetString(buffer, 0, used);
            }

            used += n;
        }
    }

    /// <summary>
    /// Reads a /proc file a buffer at a time and gives <paramref name="parser"/> each line as it is completed; only a
    /// line longer than the buffer grows it.
    /// </summary>
    private static void ReadLines(string path, LineHandler parser)
    {
        using var handle = OpenForReading(path);
        ReadLines(handle, path, parser);
    }

    /// <summary>The rest of an open /proc file, a line at a time, as <see cref="ReadLines(string, LineHandler)"/> reads it.</summary>
    internal static void ReadLines(FileDescriptorHandle handle, string path, LineHandler parser)
    {
        var bytes = new byte[ReadBufferSize];
        var chars = new char[ReadBufferSize];
        int kept = 0; // bytes of a line not yet complete, at the start of the buffer
        while (true)
        {
            if (kept == bytes.Length)
            {
                Array.Resize(ref bytes, bytes.Length * 2);
                chars = new char[bytes.Length];
            }

            int n = Read(handle, bytes.AsSpan(kept), path);
            int end = kept + n;
            int start = 0;
            for (int newline; (newline = bytes.AsSpan(start, end - start).IndexOf((byte)'\n')) >= 0; start += newline + 1)
            {
                int length = System.Text.Encoding.UTF8.GetChars(bytes.AsSpan(start, newline), chars);
                parser(chars.AsSpan(0, length));
            }

            if (n == 0)
            {
                if (end > start)
                {
                    parser(chars.AsSpan(0, System.Text.Encoding.UTF8.GetChars(bytes.AsSpan(start, end - start), chars)));
                }

                return;
            }

            bytes.AsSpan(start, end - start).CopyTo(bytes);
            kept = end - start;
        }
    }

    private static FileDescriptorHandle OpenForReading(string path)
    {
        int fd = NativeMethods.open(path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        return fd < 0 ? throw OpenError(path, directory: false) : new FileDescriptorHandle(fd);
    }

    /// <summary>read(2) into <paramref name="destination"/>, retried on EINTR; 0 at end of file.</summary>
    private static unsafe int Read(FileDescriptorHandle handle, Span<byte> destination, string path)
    {
        while (true)
        {
            nint n;
            fixed (byte* p = destination)
            {
                n = NativeMethods.read(handle.Number, p, (nuint)destination.Length);
            }

            if (n >= 0)
            {
                return (int)n;
            }

            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new IOException($"{path}: {ErrnoNames.NameOf(errno)}", errno);
            }
        }
    }

    private static string? ReadTextOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException e) when (IsOutOfFds(e))
        {
            throw OutOfFds(e, path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
