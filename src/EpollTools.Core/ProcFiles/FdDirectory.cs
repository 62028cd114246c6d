using System;
using System.Collections.Generic;
using System.IO;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// A process's /proc/&lt;pid&gt;/fd, opened once so that each fd's link and status are read relative to it
/// (readlinkat, statx with a dirfd): the kernel then looks up /proc/&lt;pid&gt; once instead of at every call,
/// which took a fifth off reading 18,000 links on this project's machine. Tied to the process it was opened for
/// (its /proc/&lt;pid&gt; is held open and everything is read relative to it): after that process exits, every read
/// answers null, as for a closed fd, and a process that reuses the pid is never read. <see cref="StartTime"/> names
/// the process, <see cref="IsAlive"/> and <see cref="HasExited"/> say whether it is still there.
/// </summary>
public sealed class FdDirectory : IDisposable
{
    private const int PathMax = 4096; // PATH_MAX, include/uapi/linux/limits.h

    private readonly FileDescriptorHandle _process;
    private readonly FileDescriptorHandle _handle;
    private FileDescriptorHandle? _info;

    private FdDirectory(int pid, FileDescriptorHandle process, FileDescriptorHandle handle, ulong? identity)
    {
        Pid = pid;
        _process = process;
        _handle = handle;
        Identity = identity;
    }

    public int Pid { get; }

    /// <summary>
    /// What names the process this directory was opened for among all that ever had its pid, so that a caller can tell
    /// the process it met before from one that took the pid since: the inode of a pidfd of it where pidfs gives each
    /// process its own (Linux 6.9: never reused while the system runs), else its start time (stat field 22, clock ticks
    /// after boot: two processes started on one pid within one tick look alike).
    /// </summary>
    public ulong? Identity { get; }

    /// <summary>
    /// Opens /proc/<paramref name="pid"/> and its fd directory. Throws <see cref="ProcessGoneException"/>,
    /// <see cref="ProcessAccessDeniedException"/>, or <see cref="LinuxErrorException"/> at the fd limit.
    /// </summary>
    public static unsafe FdDirectory Open(int pid)
    {
        string path = $"{ProcFs.Root}/{pid}";
        int process = NativeMethods.open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (process < 0)
        {
            throw OpenError(pid, path);
        }

        var processHandle = new FileDescriptorHandle(process);
        byte* name = stackalloc byte[DirectoryEntryNames.NameSize];
        DirectoryEntryNames.WriteName("fd", name);
        int fd = NativeMethods.openat(process, name, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            var error = OpenError(pid, path + "/fd");
            processHandle.Dispose();
            throw error;
        }

        var handle = new FileDescriptorHandle(fd);
        ulong? identity;
        if (ProcessIdentity.PidfsInode(pid) is ulong inode)
        {
            // The pidfd was opened by pid: it is this directory's process only if that still lived afterwards.
            var directory = new FdDirectory(pid, processHandle, handle, inode);
            if (directory.IsAlive)
            {
                return directory;
            }

            directory.Dispose();
            throw new ProcessGoneException(pid);
        }

        string? stat = ReadRelative(processHandle, "stat", $"{path}/stat");
        identity = stat is null ? null : TaskParser.ParseStatStartTime(stat);
        return new FdDirectory(pid, processHandle, handle, identity);
    }

    /// <summary>The process's name (comm) now, read from this process only; null once it is gone.</summary>
    public string? ReadComm() => ReadRelative(_process, "comm", $"{ProcFs.Root}/{Pid}/comm")?.TrimEnd('\n');

    /// <summary>
    /// Whether the process this directory was opened for still exists (a zombie does, until its parent reaps it):
    /// one lookup in its /proc directory, which fails once the process is gone, whatever now has its pid.
    /// </summary>
    public unsafe bool IsAlive
    {
        get
        {
            byte* name = stackalloc byte[DirectoryEntryNames.NameSize];
            DirectoryEntryNames.WriteName("stat", name);
            return NativeMethods.faccessat(_process.Number, name, AccessConstants.F_OK, 0) == 0;
        }
    }

    /// <summary>
    /// Whether the process is gone, a zombie, or exiting (PF_EXITING: set before the kernel closes its fds): from
    /// then on a missing fd says nothing about what the program closed.
    /// </summary>
    public bool HasExited
    {
        get
        {
            string? stat = ReadRelative(_process, "stat", $"{ProcFs.Root}/{Pid}/stat");
            return stat is null || TaskParser.IsExiting(stat);
        }
    }

    /// <summary>
    /// The link of fd <paramref name="fd"/>; null if it is not open (or the process is gone). A link the caller may
    /// not read throws <see cref="ProcessAccessDeniedException"/>, as <see cref="FdFiles.ReadLink"/> does.
    /// </summary>
    public unsafe string? ReadLink(int fd)
    {
        byte* name = stackalloc byte[DirectoryEntryNames.NameSize];
        DirectoryEntryNames.WriteName(fd, name);
        byte* buffer = stackalloc byte[PathMax];
        nint length = NativeMethods.readlinkat(_handle.Number, name, buffer, PathMax);
        if (length >= 0)
        {
            return System.Text.Encoding.UTF8.GetString(buffer, (int)length);
        }

        int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return errno is Errno.EACCES or Errno.EPERM ? throw new ProcessAccessDeniedException(Pid) : null;
    }

    /// <summary>
    /// The numbers of the fds open now, ascending, from the directory's entries (getdents64 straight into a buffer:
    /// no path or string per entry). Throws <see cref="ProcessGoneException"/> if the process exited.
    /// </summary>
    public unsafe List<int> ListFds()
    {
        var fds = new List<int>();
        byte[] buffer = new byte[32 * 1024];
        fixed (byte* start = buffer)
        {
            if (NativeMethods.lseek(_handle.Number, 0, DirentConstants.SEEK_SET) < 0)
            {
                throw Failure("lseek");
            }

            while (true)
            {
                nint read = NativeMethods.getdents64(_handle.Number, start, (nuint)buffer.Length);
                if (read < 0)
                {
                    throw Failure("getdents64");
                }

                if (read == 0)
                {
                    break;
                }

                for (int offset = 0; offset < read;)
                {
                    byte* record = start + offset;
                    offset += *(ushort*)(record + DirentConstants.RecordLengthOffset);
                    if (DirectoryEntryNames.ParseNumber(record + DirentConstants.NameOffset) is int fd)
                    {
                        fds.Add(fd); // "." and ".." are not numbers
                    }
                }
            }
        }

        fds.Sort();
        return fds;
    }

    /// <summary>statx of the link itself, whose mode shows the fd's access; null if the fd is not open.</summary>
    public unsafe FileStatus? LinkStatus(int fd)
    {
        byte* name = stackalloc byte[DirectoryEntryNames.NameSize];
        DirectoryEntryNames.WriteName(fd, name);
        NativeMethods.StatxBuffer buffer;
        int rc = NativeMethods.statx(_handle.Number, name, StatxConstants.AT_SYMLINK_NOFOLLOW, StatxConstants.STATX_BASIC_STATS, &buffer);
        return rc < 0 ? null : FileStatus.Of(buffer);
    }

    /// <summary>
    /// The fdinfo of fd <paramref name="fd"/>, opened relative to /proc/&lt;pid&gt;/fdinfo (opened on first use);
    /// null if the fd is not open or the process is gone. Throws <see cref="ProcessAccessDeniedException"/>, or
    /// <see cref="LinuxErrorException"/> at the fd limit.
    /// </summary>
    public unsafe string? ReadFdInfo(int fd)
    {
        using var handle = OpenFdInfo(fd, out string path);
        try
        {
            return handle is null ? null : ProcFileReader.ReadWhole(handle, path);
        }
        catch (IOException e) when (e is not LinuxErrorException)
        {
            return null; // ESRCH while the process exits, or the fd closed between open and read
        }
    }

    /// <summary>
    /// The fdinfo of fd <paramref name="fd"/> parsed as it is read, a buffer at a time (an epoll fd's text runs to
    /// 10 MB), as <see cref="ProcFs.ParseFdInfo"/> reads it but from this process only; null if the fd is not open or
    /// the process is gone. Throws <see cref="ProcessAccessDeniedException"/>, or <see cref="LinuxErrorException"/>.
    /// </summary>
    public ParsedFdInfo? ParseFdInfo(int fd)
    {
        using var handle = OpenFdInfo(fd, out string path);
        if (handle is null)
        {
            return null;
        }

        var parser = new FdInfoParser.LineParser();
        try
        {
            ProcFileReader.ReadLines(handle, path, parser.Add);
        }
        catch (IOException e) when (e is not LinuxErrorException)
        {
            return null; // ESRCH while the process exits, or the fd closed between open and read
        }

        return parser.Result;
    }

    /// <summary>statx of what fd <paramref name="fd"/> refers to (the link followed); null if the fd is not open.</summary>
    public unsafe FileStatus? Status(int fd)
    {
        byte* name = stackalloc byte[DirectoryEntryNames.NameSize];
        DirectoryEntryNames.WriteName(fd, name);
        NativeMethods.StatxBuffer buffer;
        int rc = NativeMethods.statx(_handle.Number, name, 0, StatxConstants.STATX_BASIC_STATS, &buffer);
        return rc < 0 ? null : FileStatus.Of(buffer);
    }

    /// <summary>fdinfo/&lt;fd&gt; opened relative to this process's fdinfo directory (opened on first use); null if it is not there.</summary>
    private unsafe FileDescriptorHandle? OpenFdInfo(int fd, out string path)
    {
        byte* name = stackalloc byte[DirectoryEntryNames.NameSize];
        if (_info is null)
        {
            DirectoryEntryNames.WriteName("fdinfo", name);
            int dir = NativeMethods.openat(_process.Number, name, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
            if (dir < 0)
            {
                path = $"{ProcFs.Root}/{Pid}/fdinfo";
                OpenFailure(path);
                return null;
            }

            _info = new FileDescriptorHandle(dir);
        }

        DirectoryEntryNames.WriteName(fd, name);
        path = $"{ProcFs.Root}/{Pid}/fdinfo/{fd}"; // (made before the call: nothing may come between it and its errno)
        int file = NativeMethods.openat(_info.Number, name, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (file < 0)
        {
            OpenFailure(path);
            return null;
        }

        return new FileDescriptorHandle(file);
    }

    public void Dispose()
    {
        _info?.Dispose();
        _handle.Dispose();
        _process.Dispose();
    }

    /// <summary>The failed open of /proc/<paramref name="pid"/> or its fd directory, as the exception it means.</summary>
    private static Exception OpenError(int pid, string path) => ProcFileReader.OpenError(path, directory: true) switch
    {
        DirectoryNotFoundException e => new ProcessGoneException(pid, e),
        IOException { HResult: Errno.ESRCH } e => new ProcessGoneException(pid, e), // it exited after /proc/<pid> was opened
        UnauthorizedAccessException e => new ProcessAccessDeniedException(pid, e),
        LinuxErrorException e => e,
        var e when !Directory.Exists($"{ProcFs.Root}/{pid}") => new ProcessGoneException(pid, e),
        var e => e,
    };

    /// <summary>A small file of the process's /proc directory, read relative to it; null if it cannot be read.</summary>
    private static unsafe string? ReadRelative(FileDescriptorHandle process, string file, string path)
    {
        byte* name = stackalloc byte[DirectoryEntryNames.NameSize];
        DirectoryEntryNames.WriteName(file, name);
        int fd = NativeMethods.openat(process.Number, name, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            // The fd limit is never taken for a process that is gone (null would say so).
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            return errno is Errno.EMFILE or Errno.ENFILE ? throw new LinuxErrorException(errno, $"open({path})") : null;
        }

        using var handle = new FileDescriptorHandle(fd);
        try
        {
            return ProcFileReader.ReadWhole(handle, path);
        }
        catch (IOException e) when (e is not LinuxErrorException)
        {
            return null;
        }
    }

    /// <summary>A failed open: null for a closed fd or a process gone, else the error it is.</summary>
    private string? OpenFailure(string path) => ProcFileReader.OpenError(path, directory: false) switch
    {
        FileNotFoundException or DirectoryNotFoundException => null,
        UnauthorizedAccessException e => throw new ProcessAccessDeniedException(Pid, e),
        LinuxErrorException e => throw e,
        _ => null,
    };

    private Exception Failure(string call)
    {
        int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return errno is Errno.ENOENT or Errno.ESRCH ? new ProcessGoneException(Pid) : new LinuxErrorException(errno, $"{call}({ProcFs.Root}/{Pid}/fd)");
    }
}
