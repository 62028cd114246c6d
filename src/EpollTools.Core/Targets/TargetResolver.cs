using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Targets;

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

    /// <summary>How many of <see cref="InetTables"/>, from the first, <see cref="SockDiag.ReadInetSockets"/> reads instead.</summary>
    private const int NetlinkInetTables = 4;

    private readonly Dictionary<string, Task<Dictionary<ulong, SocketEntry>>> _socketsByNamespace = new();
    private readonly Dictionary<int, string> _namespaces = new();
    private readonly FdTables _tables;
    private readonly Dictionary<int, string> _names = new();
    private PipeFd[]? _pipeEnds;
    private readonly Dictionary<ulong, (int Pid, int Fd)> _listedSocketHolders = new();
    private readonly HashSet<FdTable> _indexedTables = new(ReferenceEqualityComparer.Instance);
    private Dictionary<ulong, (int Pid, int Fd)>? _socketHolders;
    private Dictionary<string, List<(int Pid, int Fd)>>? _pathHolders;

    /// <param name="tables">The fd tables the scan shares, so that the search for a pipe's other end does not list again what another reader listed.</param>
    public TargetResolver(FdTables? tables = null) => _tables = tables ?? new FdTables();

    /// <summary>One process's fd on a pipe or FIFO.</summary>
    public sealed record PipeHolder(int Pid, string Name, int Fd, bool Reads, bool Writes)
    {
        public override string ToString() => $"{Pid} {Name} fd {Fd}";
    }

    /// <summary>An fd on an anonymous pipe, as the host pass found it (the index is sorted by inode).</summary>
    private readonly record struct PipeFd(ulong Inode, int Pid, int Fd, FdAccess Access) : IComparable<PipeFd>
    {
        public int CompareTo(PipeFd other) => (Inode, Pid, Fd).CompareTo((other.Inode, other.Pid, other.Fd));
    }

    /// <summary>What <paramref name="fd"/> of <paramref name="pid"/> is, given its link target.</summary>
    /// <param name="directories">The scan's open /proc/&lt;pid&gt; directories, to read an fd's own fdinfo through.</param>
    public (TargetKind Kind, string Description) Resolve(int pid, int fd, string? linkTarget, FdDirectories? directories = null)
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
            return DescribeAnonInode(pid, fd, linkTarget, directories);
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
    {
        if (FindSocket(pid, BracketNumber(linkTarget)) is not SocketEntry entry)
        {
            return $"{linkTarget} (not in /proc/{pid}/net: netlink, packet or another family)";
        }

        // A connected unix socket's other end, named by who holds it (as ss -xp and lsfd's UNIX.IPEER do).
        return entry.PeerInode is ulong peer && peer != 0 && PeerHolderOf(peer) is string holder
            ? (entry with { PeerHolder = holder }).ToString()
            : entry.ToString();
    }

    /// <summary>
    /// Whether a unix socket's peer may be looked for in every process's fd table, listed for it if no search has
    /// listed them yet: true by default; a scan turns it off for an instance too large for that to be cheap, where a
    /// peer is named only from the tables listed anyway.
    /// </summary>
    public bool SearchHostForPeers { get; set; } = true;

    /// <summary>
    /// "1234:7 (nginx)": a process holding the socket with <paramref name="inode"/>. The tables this call has listed
    /// already are asked first (a socket pair's other end is most often in the same process or its workers); the
    /// whole host's, listed once, only for a peer in none of them (see <see cref="SearchHostForPeers"/>).
    /// </summary>
    private string? PeerHolderOf(ulong inode)
    {
        if (_indexedTables.Count != _tables.ListedCount)
        {
            // Tables listed since the last look are added; one listed again replaces nothing already found.
            foreach (var table in _tables.Listed.Where(_indexedTables.Add))
            {
                IndexSockets(table, _listedSocketHolders);
            }
        }

        if (!_listedSocketHolders.TryGetValue(inode, out var holder))
        {
            if (_socketHolders is null && !SearchHostForPeers)
            {
                return null;
            }

            if (_socketHolders is null)
            {
                _socketHolders = new Dictionary<ulong, (int Pid, int Fd)>();
                foreach (var table in HostTables())
                {
                    IndexSockets(table, _socketHolders);
                }
            }

            if (!_socketHolders.TryGetValue(inode, out holder))
            {
                return null;
            }
        }

        return $"{holder.Pid}:{holder.Fd} ({NameOf(holder.Pid)})";
    }

    private static void IndexSockets(FdTable table, Dictionary<ulong, (int Pid, int Fd)> holders)
    {
        foreach (var entry in table.Entries)
        {
            if (entry.Kind == FdLinkKind.Socket)
            {
                holders.TryAdd(entry.Inode, (table.Pid, entry.Fd));
            }
        }
    }

    /// <summary>
    /// The socket with <paramref name="inode"/> in the network namespace of <paramref name="pid"/> (TCP, UDP, raw,
    /// UDP-lite and unix tables, read once per namespace); null if it is not there.
    /// </summary>
    public SocketEntry? FindSocket(int pid, ulong inode)
    {
        string ns = NamespaceOf(pid);
        if (!_socketsByNamespace.TryGetValue(ns, out var sockets))
        {
            sockets = Task.FromResult(ReadSockets(pid));
            _socketsByNamespace[ns] = sockets;
        }

        return sockets.GetAwaiter().GetResult().TryGetValue(inode, out var entry) ? entry : null;
    }

    /// <summary>
    /// Starts reading the sockets of <paramref name="pid"/>'s network namespace on another thread, for a scan that
    /// will want them (a large instance of sockets): the kernel's printing of the tables then overlaps the listing of
    /// fd tables instead of following it.
    /// </summary>
    public void PrefetchSockets(int pid)
    {
        string ns = NamespaceOf(pid);
        if (!_socketsByNamespace.ContainsKey(ns))
        {
            _socketsByNamespace[ns] = Task.Run(() => ReadSockets(pid));
        }
    }

    /// <summary>The network namespace's link, read once per process: a process with 100,000 sockets would read it 100,000 times.</summary>
    private string NamespaceOf(int pid)
    {
        if (!_namespaces.TryGetValue(pid, out string? ns))
        {
            ns = ProcFs.ReadNetNamespace(pid) ?? "pid " + pid;
            _namespaces[pid] = ns;
        }

        return ns;
    }

    /// <summary>
    /// The namespace's sockets by inode, each table parsed as it is read (never held as text). Unix sockets come
    /// from netlink sock_diag (names length-prefixed, with peers and queues), in another namespace where this
    /// process may enter it (root); else from /proc/net/unix, where a socket's name is printed as it is, newlines included, so that
    /// a user who binds a name can write lines of their own into the table: an inode found on more than one line is
    /// described as unsure, never from the first line that names it, and one that a table of another family (inet,
    /// netlink, packet) holds is that family's, whatever a unix line says.
    /// </summary>
    private static Dictionary<ulong, SocketEntry> ReadSockets(int pid)
    {
        var sockets = new Dictionary<ulong, SocketEntry>();
        void Add(SocketEntry? entry)
        {
            if (entry is not null)
            {
                sockets.TryAdd(entry.Inode, entry);
            }
        }

        // TCP and UDP as ss reads them (netlink sock_diag, TCP with struct tcp_info); the text tables where netlink
        // cannot answer, and always for the kinds it is not asked about (UDP-lite, raw).
        bool here = ProcFs.ReadNetNamespace(pid) is string ns && ns == OwnNamespace.Value;
        using var diag = SockDiag.Open(here ? null : pid);
        var inet = diag is null ? null : SockDiag.ReadInetSockets(diag);
        foreach (var entry in inet?.Values ?? Enumerable.Empty<SocketEntry>())
        {
            Add(entry);
        }

        foreach (var (file, protocol) in inet is null ? InetTables : InetTables.Skip(NetlinkInetTables))
        {
            ProcFs.ReadNetTable(pid, file, line => Add(NetTableParser.ParseInetLine(line, protocol)));
        }

        if (diag is not null && SockDiag.ReadUnixSockets(diag) is { } unix)
        {
            foreach (var entry in unix.Values)
            {
                Add(entry);
            }

            return sockets;
        }

        ReadUnixTable(pid, sockets);
        return sockets;
    }

    /// <summary>
    /// The TCP listeners and unconnected UDP sockets of <paramref name="pid"/>'s network namespace (what -TargetPort
    /// usually asks about), from its /proc/net tables; none where they cannot be read.
    /// </summary>
    public static List<SocketEntry> ListeningSockets(int pid)
    {
        var found = new List<SocketEntry>();
        foreach (var (file, protocol) in InetTables.Take(NetlinkInetTables))
        {
            ProcFs.ReadNetTable(pid, file, line =>
            {
                if (NetTableParser.ParseInetLine(line, protocol) is { } entry && (entry.State == "LISTEN" || protocol.StartsWith("UDP", StringComparison.Ordinal) && entry.RemotePort is null or 0))
                {
                    found.Add(entry);
                }
            });
        }

        return found;
    }

    private static readonly Lazy<string?> OwnNamespace = new(() => ProcFs.ReadNetNamespace(Environment.ProcessId));

    /// <summary>/proc/&lt;pid&gt;/net/unix into <paramref name="sockets"/>, only what the table can vouch for (<see cref="NetTableParser.TrustUnixLines"/>).</summary>
    private static void ReadUnixTable(int pid, Dictionary<ulong, SocketEntry> sockets)
    {
        var others = new HashSet<ulong>(sockets.Keys);
        foreach (string family in new[] { "netlink", "packet" })
        {
            ProcFs.ReadNetTable(pid, family, line =>
            {
                if (NetTableParser.ParseLastFieldInode(line) is ulong inode)
                {
                    others.Add(inode);
                }
            });
        }

        var lines = new List<SocketEntry>();
        ProcFs.ReadNetTable(pid, "unix", line =>
        {
            if (NetTableParser.ParseUnixLine(line) is SocketEntry entry)
            {
                lines.Add(entry);
            }
        });

        foreach (var (inode, entry) in NetTableParser.TrustUnixLines(lines, others))
        {
            sockets[inode] = entry;
        }
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
            var access = FdEntry.AccessOf(ProcFs.StatFd(pid, fd, link: true)?.Mode ?? 0);
            (reads, writes) = (access.HasFlag(FdAccess.Read), access.HasFlag(FdAccess.Write));
        }

        var others = ends.Where(h => !(h.Pid == pid && h.Fd == fd) && (reads ? h.Writes : h.Reads)).ToList();
        string end = reads && !writes ? "read end" : writes && !reads ? "write end" : "both ends";
        string otherEnd = reads ? "writers" : "readers";
        string holders = others.Count > 0 ? string.Join(", ", others.Take(8)) + (others.Count > 8 ? $", +{others.Count - 8} more" : string.Empty)
            // Not even this fd was in the listing: the pipe is newer than it, and "none" would be a guess.
            : ends.Count == 0 ? "not known (opened after this call listed the host's fds)"
            : "none";
        return $"{linkTarget} {end}; {otherEnd}: {holders}";
    }

    /// <summary>
    /// Who holds a pipe or FIFO. The kernel keeps no map from a pipe to its holders, so every process's fd table is
    /// listed (once per resolver, shared with the scan, on every core) and indexed: anonymous pipes by inode, with
    /// each fd's end read in the listing; FIFOs by path, on the first FIFO asked about, each holder's end read then.
    /// </summary>
    private List<PipeHolder> PipeHolders(string linkTarget)
    {
        var holders = new List<PipeHolder>();
        if (linkTarget.StartsWith("pipe:[", StringComparison.Ordinal))
        {
            _pipeEnds ??= IndexPipes();
            ulong inode = BracketNumber(linkTarget);
            int first = LowerBound(_pipeEnds, inode);
            for (int i = first; i < _pipeEnds.Length && _pipeEnds[i].Inode == inode; i++)
            {
                var end = _pipeEnds[i];
                holders.Add(new PipeHolder(end.Pid, NameOf(end.Pid), end.Fd, end.Access.HasFlag(FdAccess.Read), end.Access.HasFlag(FdAccess.Write)));
            }

            return holders;
        }

        _pathHolders ??= IndexPaths();
        foreach (var (pid, fd) in _pathHolders.TryGetValue(linkTarget, out var fds) ? fds : new List<(int, int)>())
        {
            if (ProcFs.StatFd(pid, fd, link: true) is FileStatus link)
            {
                var access = FdEntry.AccessOf(link.Mode);
                holders.Add(new PipeHolder(pid, NameOf(pid), fd, access.HasFlag(FdAccess.Read), access.HasFlag(FdAccess.Write)));
            }
        }

        return holders;
    }

    /// <summary>
    /// The first process found holding the socket or pipe with <paramref name="inode"/>, and its fd there, from the
    /// host's fd tables (listed once per resolver, shared with the pipe search); null when no readable process does.
    /// </summary>
    public (int Pid, int Fd)? FirstHolderOf(ulong inode)
    {
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind != FdLinkKind.Other && entry.Inode == inode)
                {
                    return (table.Pid, entry.Fd);
                }
            }
        }

        return null;
    }

    private IEnumerable<FdTable> HostTables()
    {
        var pids = ProcFs.ListPids();
        _tables.Load(pids);
        foreach (int pid in pids)
        {
            FdTable table;
            try
            {
                table = _tables.Get(pid);
            }
            catch (ProcessUnreadableException)
            {
                continue;
            }

            yield return table;
        }
    }

    private PipeFd[] IndexPipes()
    {
        var ends = new List<PipeFd>();
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind == FdLinkKind.Pipe)
                {
                    ends.Add(new PipeFd(entry.Inode, table.Pid, entry.Fd, entry.Access));
                }
            }
        }

        var index = ends.ToArray();
        Array.Sort(index);
        return index;
    }

    private Dictionary<string, List<(int Pid, int Fd)>> IndexPaths()
    {
        var byPath = new Dictionary<string, List<(int, int)>>(StringComparer.Ordinal);
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind == FdLinkKind.Other && entry.Link.StartsWith('/'))
                {
                    if (!byPath.TryGetValue(entry.Link, out var list))
                    {
                        list = new List<(int, int)>();
                        byPath[entry.Link] = list;
                    }

                    list.Add((table.Pid, entry.Fd));
                }
            }
        }

        return byPath;
    }

    private static int LowerBound(PipeFd[] ends, ulong inode)
    {
        int lo = 0, hi = ends.Length;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (ends[mid].Inode < inode)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private string NameOf(int pid)
    {
        if (!_names.TryGetValue(pid, out string? name))
        {
            name = ProcFs.ReadComm(pid) ?? "?";
            _names[pid] = name;
        }

        return name;
    }

    private static (TargetKind, string) DescribeAnonInode(int pid, int fd, string linkTarget, FdDirectories? directories)
    {
        string name = linkTarget.Substring("anon_inode:".Length).Trim('[', ']');
        var info = (directories is null ? ProcFs.ReadFdInfo(pid, fd) : directories.ReadFdInfo(pid, fd)) is { } text ? FdInfoParser.Parse(text) : null;
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
