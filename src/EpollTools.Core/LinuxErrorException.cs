using System;
using System.IO;
using System.Runtime.InteropServices;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>A system call failed; carries errno, the call, and the fd it was about.</summary>
public class LinuxErrorException : IOException
{
    public LinuxErrorException(int errno, string operation, int? fd = null)
        : base(FormatMessage(errno, operation, fd))
    {
        Errno = errno;
        Operation = operation;
        Fd = fd;
        HResult = errno;
    }

    public int Errno { get; }

    /// <summary>The failing call, e.g. "epoll_ctl(EPOLL_CTL_ADD)".</summary>
    public string Operation { get; }

    public int? Fd { get; }

    /// <summary>The errno's symbolic name, e.g. "EEXIST".</summary>
    public string ErrnoName => ErrnoNames.NameOf(Errno);

    /// <summary>Builds the exception from the errno the last P/Invoke left.</summary>
    internal static LinuxErrorException FromLastError(string operation, int? fd = null)
        => new(Marshal.GetLastPInvokeError(), operation, fd);

    private static string FormatMessage(int errno, string operation, int? fd)
    {
        var target = fd is int f ? $" on fd {f}" : string.Empty;
        return $"{operation}{target} failed: {ErrnoNames.NameOf(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})";
    }
}

/// <summary>Symbolic names for the errno values the module reports.</summary>
public static class ErrnoNames
{
    public static string NameOf(int errno) => errno switch
    {
        Errno.EPERM => nameof(Errno.EPERM),
        Errno.ENOENT => nameof(Errno.ENOENT),
        Errno.ESRCH => nameof(Errno.ESRCH),
        Errno.EINTR => nameof(Errno.EINTR),
        Errno.EBADF => nameof(Errno.EBADF),
        Errno.EAGAIN => nameof(Errno.EAGAIN),
        Errno.ENOMEM => nameof(Errno.ENOMEM),
        Errno.EACCES => nameof(Errno.EACCES),
        Errno.EFAULT => nameof(Errno.EFAULT),
        Errno.EEXIST => nameof(Errno.EEXIST),
        Errno.EINVAL => nameof(Errno.EINVAL),
        Errno.ENFILE => nameof(Errno.ENFILE),
        Errno.EMFILE => nameof(Errno.EMFILE),
        Errno.ENOSPC => nameof(Errno.ENOSPC),
        Errno.EPIPE => nameof(Errno.EPIPE),
        Errno.ENOSYS => nameof(Errno.ENOSYS),
        Errno.ELOOP => nameof(Errno.ELOOP),
        _ => "errno " + errno,
    };
}
