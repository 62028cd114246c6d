using System;
using System.Collections.Generic;

namespace EpollTools.Core.Parsing;

/// <summary>One registration line of an epoll fd's fdinfo (fs/eventpoll.c ep_show_fdinfo).</summary>
public sealed record EpollTargetLine(
    int Tfd,
    EpollEvents Events,
    ulong Data,
    long? Pos,
    ulong? Ino,
    uint? KernelDevice,
    int Offset)
{
    /// <summary>sdev as major:minor (the kernel's internal dev_t: MAJOR = dev &gt;&gt; 20).</summary>
    public string? Device => KernelDevice is uint dev ? DeviceNumbers.FormatKernel(dev) : null;
}

/// <summary>eventfd fields (fs/eventfd.c eventfd_show_fdinfo); id and semaphore are absent on older kernels.</summary>
public sealed record EventFdFields(ulong Count, int? Id, bool? Semaphore);

/// <summary>timerfd fields (fs/timerfd.c timerfd_show): the next expiry and the period, as the kernel printed them.</summary>
public sealed record TimerFdFields(int ClockId, ulong Ticks, int SettimeFlags, TimeSpan Value, TimeSpan Interval);

/// <summary>One inotify watch (fs/notify/fdinfo.c): wd, the watched inode and device, the event mask.</summary>
public sealed record InotifyWatch(int Wd, ulong Ino, uint KernelDevice, uint Mask, uint IgnoredMask);

/// <summary>One fanotify mark: on an inode (Ino set), a mount (MntId set) or a filesystem (KernelDevice only).</summary>
public sealed record FanotifyMark(ulong? Ino, uint? KernelDevice, int? MntId, uint MarkFlags, uint Mask, uint IgnoredMask);

/// <summary>A line that could not be read; the rest of the file is still parsed.</summary>
public sealed record FdInfoParseError(int LineNumber, string Line, string Reason);

/// <summary>
/// What /proc/&lt;pid&gt;/fdinfo/&lt;fd&gt; says about one fd: the common fields (pos, flags, mnt_id, ino) and
/// every type-specific field the kernel prints. Lines the parser does not know are kept in
/// <see cref="UnknownLines"/>, malformed ones in <see cref="Errors"/>.
/// </summary>
public sealed class ParsedFdInfo
{
    public long? Pos { get; internal set; }

    /// <summary>The open flags (printed in octal by the kernel).</summary>
    public int? Flags { get; internal set; }

    public int? MntId { get; internal set; }

    /// <summary>The inode number (kernels from 5.14 print it).</summary>
    public ulong? Ino { get; internal set; }

    /// <summary>Every "key: value" line in order, known or not (epoll, inotify and fanotify lines excluded).</summary>
    public List<KeyValuePair<string, string>> Fields { get; } = new();

    public List<EpollTargetLine> EpollTargets { get; } = new();

    public EventFdFields? EventFd { get; internal set; }

    public TimerFdFields? TimerFd { get; internal set; }

    /// <summary>A signalfd's signal mask: bit n-1 is signal n.</summary>
    public ulong? SignalMask { get; internal set; }

    public List<InotifyWatch> InotifyWatches { get; } = new();

    public uint? FanotifyFlags { get; internal set; }

    public uint? FanotifyEventFlags { get; internal set; }

    public List<FanotifyMark> FanotifyMarks { get; } = new();

    /// <summary>A pidfd's process, in the reader's pid namespace (-1: the process has exited).</summary>
    public int? PidFdPid { get; internal set; }

    /// <summary>A pidfd's pid in each nested pid namespace.</summary>
    public int[]? PidFdNsPids { get; internal set; }

    public List<string> UnknownLines { get; } = new();

    public List<FdInfoParseError> Errors { get; } = new();
}
