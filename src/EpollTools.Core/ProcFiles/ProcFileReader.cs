using System;
using System.IO;
using System.Text;
using EpollTools.Core.Native;

namespace EpollTools.Core.ProcFiles;

/// <summary>Takes one line of a file read a buffer at a time; the span is valid only during the call.</summary>
public delegate void LineHandler(ReadOnlySpan<char> line);

/// <summary>
/// How /proc files are read: open(2) and read(2) with one reusable buffer (their size reads 0), a line at a time for
/// the large ones, readlink(2) into a stack buffer; and the one policy for what a failure means (the fd limit is
/// never mistaken for a process that is gone).
/// </summary>
internal static class ProcFileReader
{
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

    /// <summary>readlink(2) straight into a stack buffer: this runs once per fd, so no FileInfo per call.</summary>
    internal static string? ReadLink(string path) => ReadLink(path, out _);

    internal static unsafe string? ReadLink(string path, out int errno)
    {
        const int size = 4096; // PATH_MAX
        byte* buffer = stackalloc byte[size];
        nint length = NativeMethods.readlink(path, buffer, size);
        errno = length < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
        return length < 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, (int)length);
    }

    /// <summary>EMFILE or ENFILE, as .NET's own file APIs report them (IOException with the errno as HResult) or ours do.</summary>
    internal static bool IsOutOfFds(IOException e) => e.HResult is Errno.EMFILE or Errno.ENFILE;

    /// <summary>
    /// The fd limit reached while reading /proc: never to be mistaken for a process that is gone or an fd that was
    /// closed, so it is raised as the <see cref="LinuxErrorException"/> it is.
    /// </summary>
    internal static LinuxErrorException OutOfFds(IOException e, string path) => e as LinuxErrorException ?? new LinuxErrorException(e.HResult, $"open({path})");

    /// <summary>The size of the buffer /proc files are read with: most fit in one read.</summary>
    private const int ReadBufferSize = 64 * 1024;

    [ThreadStatic]
    private static byte[]? _readBuffer;

    /// <summary>
    /// Reads a /proc file whole with one reusable buffer (one string allocated per call). /proc files report size 0,
    /// so they are read until end of file. A buffer grown for a large file is let go afterwards.
    /// </summary>
    internal static string ReadSmallFile(string path)
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
    internal static void ReadLines(string path, LineHandler parser)
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

    internal static string? ReadTextOrNull(string path)
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
