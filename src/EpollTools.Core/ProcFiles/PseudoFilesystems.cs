using System;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// The devices of the kernel's socket, pipe and anonymous-inode filesystems (sockfs, pipefs, anon_inodefs), learned
/// once from a socket pair, a pipe and an eventfd this process makes for the purpose: an epoll line's sdev then tells
/// a socket or a pipe without reading its link, and an anonymous file (eventfd, timerfd, signalfd...), whose inode is
/// one that every other such file shares: it does not tell one from another.
/// </summary>
public static class PseudoFilesystems
{
    private static readonly Lazy<(uint Major, uint Minor)> SockFsDevice = new(() =>
    {
        using var pair = SocketPair.Create();
        return DeviceOf(pair.First.Fd);
    });

    private static readonly Lazy<(uint Major, uint Minor)> PipeFsDevice = new(() =>
    {
        using var pipe = Pipe.Create();
        return DeviceOf(pipe.ReadEnd.Fd);
    });

    private static readonly Lazy<(uint Major, uint Minor)> AnonInodeFsDevice = new(() =>
    {
        using var eventFd = EventFd.Create();
        return DeviceOf(eventFd.Fd);
    });

    /// <summary>sockfs's device, as statx gives it.</summary>
    public static (uint Major, uint Minor) SockFs => SockFsDevice.Value;

    /// <summary>pipefs's device, as statx gives it.</summary>
    public static (uint Major, uint Minor) PipeFs => PipeFsDevice.Value;

    /// <summary>anon_inodefs's device, as statx gives it.</summary>
    public static (uint Major, uint Minor) AnonInodeFs => AnonInodeFsDevice.Value;

    /// <summary>Whether <paramref name="line"/>'s sdev is <paramref name="device"/> (false on a kernel that prints none).</summary>
    public static bool IsOn(EpollTargetLine line, (uint Major, uint Minor) device)
        => line.KernelDevice is uint dev && (DeviceNumbers.KernelMajor(dev), DeviceNumbers.KernelMinor(dev)) == device;

    private static (uint, uint) DeviceOf(int fd)
        => FileIdentity.StatFd(Environment.ProcessId, fd) is FileStatus status ? (status.DevMajor, status.DevMinor) : throw new InvalidOperationException($"statx of this process's fd {fd} failed.");
}
