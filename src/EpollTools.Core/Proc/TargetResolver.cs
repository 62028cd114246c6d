using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EpollTools.Core.Native;

namespace EpollTools.Core.Proc;

/// <summary>
/// Says what a process's fd is, in one readable line: sockets from the process's own network namespace tables,
/// pipes with the processes on the other end, and the fdinfo fields of eventfd, timerfd, signalfd and friends.
/// One resolver serves one scan, caching what it read (network tables per namespace, the host's pipe holders).
/// </summary>
public sealed class TargetResolver
{
    private static readonly (string File, string Protocol)[] InetTables =
    {
        ("tcp", "TCP"), ("tcp6", "TCP6"), ("udp", "UDP"), ("udp6", "UDP6"),
        ("udplite", "UDPLITE"), ("udplite6", "UDPLITE6"), ("raw", "RAW"), ("raw6", "RAW6"),
    };

    private readonly Dictionary<string, Dictionary<ulong, SocketEntry>> _socketsByNamespace = new();
    private readonly FdTables _tables;
    private Dictionary<string, List<PipeHolder>>? _pipeHolders;

    /// <param name="tables">The fd tables the scan shares, so that the search for a pipe's other end does not list again what another reader listed.</param>
    public TargetResolver(FdTables? tables = null) => _tables = tables ?? new FdTables();

    /// <summary>One process's fd on a pipe or FIFO.</summary>
    public sealed record PipeHolder(int Pid, string Name, int Fd, bool Reads, bool Writes)
    {
        public override string ToString() => $"{Pid} {Name} fd {Fd}";
    }

    /// <summary>What <paramref name="fd"/> of <paramref name="pid"/> is, given its link target.</summary>
    public (TargetKind Kind, string Description) Resolve(int pid, int fd, string? linkTarget)
    {
        if (linkTarget is null)
        {
            return (TargetKind.Closed, "(closed)");
        }

        if (linkTarget.StartsWith("socket:[", StringComparison.Ordinal))
        {
            return (TargetKind.Socket, DescribeSocket(pid, linkTarget));
        }

        if (linkTarget.StartsWith("pipe:[", StringComparison.Ordinal))
        {
            return (TargetKind.Pipe, DescribePipe(pid, fd, linkTarget));
        }

        if (linkTarget.StartsWith("anon_inode:", StringComparison.Ordinal))
        {
            return DescribeAnonInode(pid, fd, linkTarget);
        }

        var status = ProcFs.StatFd(pid, fd);
        return status?.Type switch
        {
            StatxConstants.S_IFIFO => (TargetKind.Fifo, DescribePipe(pid, fd, linkTarget)),
            StatxConstants.S_IFREG => (TargetKind.RegularFile, linkTarget),
            StatxConstants.S_IFDIR => (TargetKind.Directory, linkTarget),
            StatxConstants.S_IFCHR => (TargetKind.CharDevice, $"{linkTarget} (char {status.Value.RdevMajor}:{status.Value.RdevMinor})"),
            StatxConstants.S_IFBLK => (TargetKind.BlockDevice, $"{linkTarget} (block {status.Value.RdevMajor}:{status.Value.RdevMinor})"),
            _ => (TargetKind.Unknown, linkTarget),
        };
    }

    /// <summary>The socket line for a "socket:[inode]" target, looked up in the process's network namespace.</summary>
    public string DescribeSocket(int pid, string linkTarget)
        => FindSocket(pid, BracketNumber(linkTarget)) is SocketEntry entry ? entry.ToString() : $"{linkTarget} (not in /proc/{pid}/net: netlink, packet or another family)";

    /// <summary>
    /// The socket with <paramref name="inode"/> in the network namespace of <paramref name="pid"/> (TCP, UDP, raw,
    /// UDP-lite and unix tables, read once per namespace); null if it is not there.
    /// </summary>
    public SocketEntry? FindSocket(int pid, ulong inode)
    {
        string ns = ProcFs.ReadNetNamespace(pid) ?? "pid " + pid;
        if (!_socketsByNamespace.TryGetValue(ns, out var sockets))
        {
            sockets = ReadSockets(pid);
            _socketsByNamespace[ns] = sockets;
        }

        return sockets.TryGetValue(inode, out var entry) ? entry : null;
    }

    private static Dictionary<ulong, SocketEntry> ReadSockets(int pid)
    {
        var sockets = new Dictionary<ulong, SocketEntry>();
        foreach (var (file, protocol) in InetTables)
        {
            string? text = ProcFs.ReadNetTable(pid, file);
            if (text is null)
            {
                continue;
            }

            foreach (var entry in NetTableParser.ParseInet(text, protocol))
            {
                sockets.TryAdd(entry.Inode, entry);
            }
        }

        string? unix = ProcFs.ReadNetTable(pid, "unix");
        if (unix is not null)
        {
            foreach (var entry in NetTableParser.ParseUnix(unix))
            {
                sockets.TryAdd(entry.Inode, entry);
            }
        }

        return sockets;
    }

    private string DescribePipe(int pid, int fd, string linkTarget)
    {
        // Which end this fd is: the host pass has already looked (a statx of the link: its mode is the fd's access).
        var ends = PipeHolders(linkTarget);
        var self = ends.FirstOrDefault(h => h.Pid == pid && h.Fd == fd);
        bool reads, writes;
        if (self is not null)
        {
            (reads, writes) = (self.Reads, self.Writes);
        }
        else
        {
            var mode = ProcFs.StatFd(pid, fd, link: true)?.Mode ?? 0;
            (reads, writes) = ((mode & StatxConstants.S_IRUSR) != 0, (mode & StatxConstants.S_IWUSR) != 0);
        }

        var others = ends.Where(h => !(h.Pid == pid && h.Fd == fd) && (reads ? h.Writes : h.Reads)).ToList();
        string end = reads && !writes ? "read end" : writes && !reads ? "write end" : "both ends";
        string otherEnd = reads ? "writers" : "readers";
        string holders = others.Count == 0 ? "none" : string.Join(", ", others.Take(8)) + (others.Count > 8 ? $", +{others.Count - 8} more" : string.Empty);
        return $"{linkTarget} {end}; {otherEnd}: {holders}";
    }

    /// <summary>Who holds a pipe or FIFO: one pass over every process's fds, made once per resolver.</summary>
    private List<PipeHolder> PipeHolders(string linkTarget)
    {
        if (_pipeHolders is null)
        {
            _pipeHolders = new Dictionary<string, List<PipeHolder>>(StringComparer.Ordinal);
            foreach (int pid in ProcFs.ListPids())
            {
                List<(int Fd, string Target)> fds;
                try
                {
                    fds = _tables.Get(pid);
                }
                catch (Exception e) when (e is ProcessGoneException or ProcessAccessDeniedException)
                {
                    continue;
                }

                string? name = null;
                foreach (var (fd, target) in fds)
                {
                    if (!target.StartsWith("pipe:[", StringComparison.Ordinal) && !target.StartsWith('/'))
                    {
                        continue;
                    }

                    var link = ProcFs.StatFd(pid, fd, link: true);
                    if (link is null)
                    {
                        continue;
                    }

                    name ??= ProcFs.ReadComm(pid) ?? "?";
                    if (!_pipeHolders.TryGetValue(target, out var list))
                    {
                        list = new List<PipeHolder>();
                        _pipeHolders[target] = list;
                    }

                    list.Add(new PipeHolder(pid, name, fd, (link.Value.Mode & StatxConstants.S_IRUSR) != 0, (link.Value.Mode & StatxConstants.S_IWUSR) != 0));
                }
            }
        }

        return _pipeHolders.TryGetValue(linkTarget, out var holders) ? holders : new List<PipeHolder>();
    }

    private static (TargetKind, string) DescribeAnonInode(int pid, int fd, string linkTarget)
    {
        string name = linkTarget.Substring("anon_inode:".Length).Trim('[', ']');
        var info = ProcFs.ReadFdInfo(pid, fd) is { } text ? FdInfoParser.Parse(text) : null;
        switch (name)
        {
            case "eventfd":
                return (TargetKind.EventFd, info?.EventFd is { } e
                    ? $"eventfd count={e.Count}{(e.Id is int id ? $" id={id}" : string.Empty)}{(e.Semaphore == true ? " semaphore" : string.Empty)}"
                    : "eventfd");
            case "timerfd":
                return (TargetKind.TimerFd, info?.TimerFd is { } t ? DescribeTimer(t) : "timerfd");
            case "signalfd":
                return (TargetKind.SignalFd, info?.SignalMask is ulong mask ? $"signalfd {FlagNames.DecodeSignals(mask)}" : "signalfd");
            case "eventpoll":
                return (TargetKind.Epoll, info is null ? "epoll" : $"epoll ({info.EpollTargets.Count} registered: tfd {string.Join(",", info.EpollTargets.Select(t => t.Tfd).Distinct().Order().Take(16))})");
            case "inotify":
                return (TargetKind.Inotify, info is null ? "inotify" : $"inotify ({info.InotifyWatches.Count} watches)");
            case "fanotify":
            case "[fanotify]":
                return (TargetKind.Fanotify, info is null ? "fanotify" : $"fanotify ({info.FanotifyMarks.Count} marks)");
            case "pidfd":
                return (TargetKind.PidFd, info?.PidFdPid is int target ? (target < 0 ? "pidfd (process exited)" : $"pidfd of {target} {ProcFs.ReadComm(target)}") : "pidfd");
            default:
                return (TargetKind.AnonInode, linkTarget);
        }
    }

    private static string DescribeTimer(TimerFdFields timer)
    {
        string clock = timer.ClockId switch
        {
            TimerFdFlags.CLOCK_REALTIME => "REALTIME",
            TimerFdFlags.CLOCK_MONOTONIC => "MONOTONIC",
            TimerFdFlags.CLOCK_BOOTTIME => "BOOTTIME",
            TimerFdFlags.CLOCK_REALTIME_ALARM => "REALTIME_ALARM",
            TimerFdFlags.CLOCK_BOOTTIME_ALARM => "BOOTTIME_ALARM",
            _ => "clock " + timer.ClockId,
        };
        if (timer.Value == TimeSpan.Zero)
        {
            return $"timerfd {clock} disarmed";
        }

        string interval = timer.Interval == TimeSpan.Zero ? "once" : $"every {Seconds(timer.Interval)}";
        return $"timerfd {clock} next in {Seconds(timer.Value)}, {interval}";
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    private static ulong BracketNumber(string linkTarget)
    {
        int open = linkTarget.IndexOf('[');
        int close = linkTarget.IndexOf(']');
        return open >= 0 && close > open && ulong.TryParse(linkTarget.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)
            ? value
            : 0;
    }
}
