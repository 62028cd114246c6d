using System;
using EpollTools.Core.Native;

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
/// Which file an fd is: statx of what it refers to (or of its link, whose mode is the fd's access), and kcmp's answers
/// (the same open file, the file of an epoll registration, an order of files).
/// </summary>
public static class FileIdentity
{
    /// <summary>statx of what /proc/&lt;pid&gt;/fd/&lt;fd&gt; refers to, or of the link itself (whose mode shows the fd's access).</summary>
    public static FileStatus? StatFd(int pid, int fd, bool link = false)
        => Statx($"{ProcFs.Root}/{pid}/fd/{fd}", link ? StatxConstants.AT_SYMLINK_NOFOLLOW : 0);

    /// <summary>statx of a path, following symbolic links; null if it cannot be reached.</summary>
    public static FileStatus? StatPath(string path) => Statx(path, 0);

    /// <summary>
    /// Whether a path (symbolic links followed) is the root of a mount, such as a file bind-mounted over another: such
    /// a path cannot be renamed over (EBUSY). Null if it cannot be reached or the kernel does not say (before 5.8).
    /// </summary>
    public static unsafe bool? IsMountRoot(string path)
    {
        NativeMethods.StatxBuffer buffer;
        if (NativeMethods.statx(StatxConstants.AT_FDCWD, path, 0, StatxConstants.STATX_TYPE, &buffer) < 0
            || (buffer.AttributesMask & StatxConstants.STATX_ATTR_MOUNT_ROOT) == 0)
        {
            return null;
        }

        return (buffer.Attributes & StatxConstants.STATX_ATTR_MOUNT_ROOT) != 0;
    }

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
}
