using System;
using System.Collections.Generic;
using System.IO;
using EpollTools.Core.Native;

namespace EpollTools.Core.Proc;

/// <summary>
/// A process's /proc/&lt;pid&gt;/fd, opened once so that each fd's link and status are read relative to it
/// (readlinkat, statx with a dirfd): the kernel then looks up /proc/&lt;pid&gt; once instead of at every call,
/// which took a fifth off reading 18,000 links on this project's machine. Tied to the process it was opened for:
/// after that exits, every read answers null, as for a closed fd, and a process that reuses the pid is never read.
/// </summary>
public sealed class FdDirectory : IDisposable
{
    private const int PathMax = 4096; // PATH_MAX, include/uapi/linux/limits.h

    private readonly FileDescriptorHandle _handle;
    private FileDescriptorHandle? _info;

    private FdDirectory(int pid, FileDescriptorHandle handle)
    {
        Pid = pid;
        _handle = handle;
    }

    public int Pid { get; }

    /// <summary>
    /// Opens /proc/<paramref name="pid"/>/fd. Throws <see cref="ProcessGoneException"/>,
    /// <see cref="ProcessAccessDeniedException"/>, or <see cref="LinuxErrorException"/> at the fd limit.
    /// </summary>
    public static FdDirectory Open(int pid)
    {
        string path = $"{ProcFs.Root}/{pid}/fd";
        int fd = NativeMethods.open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd >= 0)
        {
            return new FdDirectory(pid, new FileDescriptorHandle(fd));
        }

        throw ProcFs.OpenError(path, directory: true) switch
        {
            DirectoryNotFoundException e => new ProcessGoneException(pid, e),
            UnauthorizedAccessException e => new ProcessAccessDeniedException(pid, e),
            LinuxErrorException e => e,
            var e when !Directory.Exists($"{ProcFs.Root}/{pid}") => new ProcessGoneException(pid, e),
            var e => e,
        };
    }

    /// <summary>
    /// The link of fd <paramref name="fd"/>; null if it is not open (or the process is gone). A link the caller may
    /// not read throws <see cref="ProcessAccessDeniedException"/>, as <see cref="ProcFs.ReadFdTarget"/> does.
    /// </summary>
    public unsafe string? ReadLink(int fd)
    {
        byte* name = stackalloc byte[NameSize];
        WriteName(fd, name);
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
                    if (ParseNumber(record + DirentConstants.NameOffset) is int fd)
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
        byte* name = stackalloc byte[NameSize];
        WriteName(fd, name);
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
        if (_info is null)
        {
            int dir = NativeMethods.open($"{ProcFs.Root}/{Pid}/fdinfo", OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
            if (dir < 0)
            {
                return OpenFailure($"{ProcFs.Root}/{Pid}/fdinfo");
            }

            _info = new FileDescriptorHandle(dir);
        }

        byte* name = stackalloc byte[NameSize];
        WriteName(fd, name);
        string path = $"{ProcFs.Root}/{Pid}/fdinfo/{fd}"; // (made before the call: nothing may come between it and its errno)
        int file = NativeMethods.openat(_info.Number, name, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (file < 0)
        {
            return OpenFailure(path);
        }

        using var handle = new FileDescriptorHandle(file);
        try
        {
            return ProcFs.ReadWhole(handle, path);
        }
        catch (IOException e) when (e is not LinuxErrorException)
        {
            return null; // ESRCH while the process exits, or the fd closed between open and read
        }
    }

    public void Dispose()
    {
        _info?.Dispose();
        _handle.Dispose();
    }

    /// <summary>A failed open: null for a closed fd or a process gone, else the error it is.</summary>
    private string? OpenFailure(string path) => ProcFs.OpenError(path, directory: false) switch
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

    /// <summary>A NUL-terminated name of decimal digits as an fd number; null for any other name.</summary>
    private static unsafe int? ParseNumber(byte* name)
    {
        long value = 0;
        int length = 0;
        for (; name[length] != 0; length++)
        {
            byte c = name[length];
            if (c < '0' || c > '9' || length >= 10)
            {
                return null;
            }

            value = (value * 10) + (c - '0');
        }

        return length > 0 && value <= int.MaxValue ? (int)value : null;
    }

    /// <summary>Room for an int in decimal, its sign and the NUL.</summary>
    private const int NameSize = 12;

    private static unsafe void WriteName(int fd, byte* name)
    {
        var span = new Span<byte>(name, NameSize);
        fd.TryFormat(span, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        span[written] = 0;
    }
}

/// <summary>
/// The <see cref="FdDirectory"/> of each process one piece of work reads, opened on first use and closed together.
/// A process that is gone has none (its links read as null).
/// </summary>
public sealed class FdDirectories : IDisposable
{
    private readonly Dictionary<int, FdDirectory?> _open = new();

    /// <summary>The directory of <paramref name="pid"/>; null if the process is gone. Throws <see cref="ProcessAccessDeniedException"/>.</summary>
    public FdDirectory? Of(int pid)
    {
        if (!_open.TryGetValue(pid, out var directory))
        {
            try
            {
                directory = FdDirectory.Open(pid);
            }
            catch (ProcessGoneException)
            {
                directory = null;
            }

            _open[pid] = directory;
        }

        return directory;
    }

    /// <summary>The link of fd <paramref name="fd"/> of <paramref name="pid"/>, as <see cref="ProcFs.ReadFdTarget"/> gives it.</summary>
    public string? ReadLink(int pid, int fd) => Of(pid)?.ReadLink(fd);

    /// <summary>The fdinfo of fd <paramref name="fd"/> of <paramref name="pid"/>; null if it is not open or the process is gone.</summary>
    public string? ReadFdInfo(int pid, int fd) => Of(pid)?.ReadFdInfo(fd);

    public void Dispose()
    {
        foreach (var directory in _open.Values)
        {
            directory?.Dispose();
        }

        _open.Clear();
    }
}
