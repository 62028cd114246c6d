using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using EpollTools.Core.Kinds;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Targets;

/// <summary>
/// Says what a process's fd is, in one readable line, through the kind that claims its link (<see cref="FdKinds"/>),
/// and answers what the kinds ask of the host (<see cref="IFdNeighbours"/>): the sockets of a network namespace, who
/// holds a socket or a pipe. One resolver serves one request, caching what it read (network tables per namespace,
/// the host's fd tables, shared with the request).
/// </summary>
public sealed class TargetResolver : IFdNeighbours
{
    private readonly Dictionary<string, Task<Dictionary<ulong, SocketEntry>>> _socketsByNamespace = new();
    private readonly Dictionary<int, string> _namespaces = new();
    private readonly FdTables _tables;
    private readonly Dictionary<int, string> _names = new();
    private readonly Dictionary<ulong, (int Pid, int Fd)> _listedSocketHolders = new();
    private readonly HashSet<FdTable> _indexedTables = new(ReferenceEqualityComparer.Instance);
    private Dictionary<ulong, (int Pid, int Fd)>? _socketHolders;

    /// <param name="tables">The fd tables the request shares, so that the search for a pipe's other end does not list again what another reader listed.</param>
    public TargetResolver(FdTables? tables = null)
    {
        _tables = tables ?? new FdTables();
        Holders = new HostHolders(_tables, NameOf);
    }

    /// <summary>Who holds a pipe, a socket or an open file anywhere on the host, from the request's fd tables.</summary>
    public HostHolders Holders { get; }

    /// <summary>What <paramref name="fd"/> of <paramref name="pid"/> is, given its link target.</summary>
    /// <param name="directories">The request's open /proc/&lt;pid&gt; directories, to read an fd's own fdinfo through.</param>
    public (TargetKind Kind, string Description) Resolve(int pid, int fd, string? linkTarget, FdDirectories? directories = null)
    {
        if (linkTarget is null)
        {
            return (TargetKind.Closed, "(closed)");
        }

        return FdKinds.Describe(new ProcFdTarget(pid, fd, linkTarget, this, directories));
    }

    public IReadOnlyList<PipeHolder> PipeHolders(string linkTarget) => Holders.PipeHolders(linkTarget);

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
    public string? SocketHolderOf(ulong inode)
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
                foreach (var table in Holders.HostTables())
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
        => SocketsOf(pid).TryGetValue(inode, out var entry) ? entry : null;

    /// <summary>The sockets of <paramref name="pid"/>'s network namespace by inode, read once per namespace.</summary>
    private Dictionary<ulong, SocketEntry> SocketsOf(int pid)
    {
        string ns = NamespaceOf(pid);
        if (!_socketsByNamespace.TryGetValue(ns, out var sockets))
        {
            sockets = Task.FromResult(SocketTables.Read(pid));
            _socketsByNamespace[ns] = sockets;
        }

        return sockets.GetAwaiter().GetResult();
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
            _socketsByNamespace[ns] = Task.Run(() => SocketTables.Read(pid));
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
    /// The other side of a connected TCP socket of <paramref name="pid"/>'s network namespace when it is in the same
    /// namespace (a loopback connection): the socket whose local and remote addresses are this one's reversed.
    /// </summary>
    public SocketEntry? FindConnectedPeer(int pid, SocketEntry socket)
    {
        if (socket.LocalAddress is null || socket.RemoteAddress is null)
        {
            return null;
        }

        return SocketsOf(pid).Values.FirstOrDefault(other => other.Protocol == socket.Protocol && other.Inode != socket.Inode
            && other.LocalPort == socket.RemotePort && other.RemotePort == socket.LocalPort
            && socket.RemoteAddress.Equals(other.LocalAddress) && socket.LocalAddress.Equals(other.RemoteAddress));
    }

    public string NameOf(int pid)
    {
        if (!_names.TryGetValue(pid, out string? name))
        {
            name = ProcFs.ReadComm(pid) ?? "?";
            _names[pid] = name;
        }

        return name;
    }
}
