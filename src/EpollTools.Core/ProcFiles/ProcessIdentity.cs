using System;
using EpollTools.Core.Native;

namespace EpollTools.Core.ProcFiles;

/// <summary>Which process has a pid, as pidfs names it (see <see cref="FdDirectory.Identity"/>).</summary>
public static class ProcessIdentity
{
    /// <summary>Whether pidfds have an inode per process here (pidfs, Linux 6.9), not the one anonymous inode.</summary>
    private static readonly Lazy<bool> PidfsHasInodes = new(() =>
        Environment.ProcessId != 1 && RawPidfdInode(Environment.ProcessId) is ulong self && RawPidfdInode(1) is ulong init && self != init);

    /// <summary>The pidfs inode of the process that has <paramref name="pid"/> now; null where pidfs does not name processes, or the pid is free.</summary>
    public static ulong? PidfsInode(int pid) => PidfsHasInodes.Value ? RawPidfdInode(pid) : null;

    private static unsafe ulong? RawPidfdInode(int pid)
    {
        long fd = NativeMethods.syscall(PidFdConstants.SYS_pidfd_open, pid, 0, 0, 0, 0);
        if (fd < 0)
        {
            return null;
        }

        using var handle = new FileDescriptorHandle((int)fd);
        NativeMethods.StatxBuffer buffer;
        return NativeMethods.statx((int)fd, string.Empty, StatxConstants.AT_EMPTY_PATH, StatxConstants.STATX_INO, &buffer) == 0 ? buffer.Ino : null;
    }
}
