using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Targets;

/// <summary>
/// The sockets of a network namespace, read as ss reads them (netlink sock_diag) where it answers, else from the
/// /proc/net tables; pure reads, each table parsed as it is read.
/// </summary>
public static class SocketTables
{
    private static readonly (string File, string Protocol)[] InetTables =
    {
        ("tcp", "TCP"), ("tcp6", "TCP6"), ("udp", "UDP"), ("udp6", "UDP6"),
        ("udplite", "UDPLITE"), ("udplite6", "UDPLITE6"), ("raw", "RAW"), ("raw6", "RAW6"),
    };

    /// <summary>How many of <see cref="InetTables"/>, from the first, <see cref="SockDiag.ReadInetSockets"/> reads instead.</summary>
    private const int NetlinkInetTables = 4;

    /// <summary>
    /// The namespace's sockets by inode, each table parsed as it is read (never held as text). Unix sockets come
    /// from netlink sock_diag (names length-prefixed, with peers and queues), in another namespace where this
    /// process may enter it (root); else from /proc/net/unix, where a socket's name is printed as it is, newlines included, so that
    /// a user who binds a name can write lines of their own into the table: an inode found on more than one line is
    /// described as unsure, never from the first line that names it, and one that a table of another family (inet,
    /// netlink, packet) holds is that family's, whatever a unix line says.
    /// </summary>
    public static Dictionary<ulong, SocketEntry> Read(int pid)
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
}
