using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using EpollTools.Core.Native;

namespace EpollTools.Core.Parsing;

/// <summary>
/// A socket as the kernel describes it (sock_diag over netlink, or a /proc/&lt;pid&gt;/net table), found by its inode.
/// <paramref name="PeerInode"/> is a connected unix socket's other end; <paramref name="ReceiveQueue"/> and
/// <paramref name="SendQueue"/> are what ss shows as Recv-Q and Send-Q (bytes waiting; for a listener, connections
/// waiting to be accepted and the backlog). <paramref name="Unsure"/> says why the description may not be this
/// socket's (a text table in which its inode appears more than once), null when it is sure.
/// </summary>
public sealed record SocketEntry(
    ulong Inode,
    string Protocol,
    string State,
    IPAddress? LocalAddress,
    int? LocalPort,
    IPAddress? RemoteAddress,
    int? RemotePort,
    string? Path,
    ulong? PeerInode = null,
    long? ReceiveQueue = null,
    long? SendQueue = null,
    string? Unsure = null,
    TcpFacts? Tcp = null,
    string? PeerHolder = null)
{
    /// <summary>
    /// One line, e.g. "TCP 127.0.0.1:80 -> 10.0.0.2:5123 ESTABLISHED" or "UNIX STREAM CONNECTED /run/x.sock, peer
    /// socket:[123], 25 bytes unread".
    /// </summary>
    public override string ToString()
    {
        if (Unsure is not null)
        {
            return $"socket:[{Inode}] not known for sure: {Unsure}";
        }

        if (Path is not null || LocalAddress is null)
        {
            string peer = PeerInode is ulong other && other != 0
                ? $", peer socket:[{other}]{(PeerHolder is null ? string.Empty : " held by " + PeerHolder)}"
                : string.Empty;
            // What waits comes before the peer: a table cut to the terminal's width keeps it.
            return $"{Protocol} {State}{(string.IsNullOrEmpty(Path) ? string.Empty : " " + Path)}{Queued()}{peer}";
        }

        string local = Endpoint(LocalAddress, LocalPort);
        bool connected = RemotePort is > 0;
        return (connected ? $"{Protocol} {local} -> {Endpoint(RemoteAddress!, RemotePort)} {State}" : $"{Protocol} {local} {State}") + Queued()
            + (connected && Tcp is not null ? ", " + Tcp : string.Empty);
    }

    /// <summary>
    /// What waits in the queues, as ss's Recv-Q and Send-Q: bytes unread, or for a listener connections not yet
    /// accepted; for TCP and UDP, bytes sent but not yet taken by the other side (a slow reader there, where an idle
    /// connection has none).
    /// </summary>
    private string Queued()
    {
        string received = ReceiveQueue is long queued && queued > 0
            ? State == "LISTEN" ? $", {queued} waiting to be accepted" : $", {queued} bytes unread"
            : string.Empty;
        // A unix socket's Send-Q is the memory its unread writes hold (sk_wmem_alloc), not a count of bytes: not said.
        string sent = LocalAddress is not null && SendQueue is long outgoing && outgoing > 0 && State != "LISTEN" ? $", {outgoing} bytes not yet taken by the peer" : string.Empty;
        return received + sent;
    }

    private static string Endpoint(IPAddress address, int? port)
        => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}

/// <summary>
/// What the kernel keeps of a TCP connection's traffic (struct tcp_info, as ss -ti shows it): what tells a slow
/// client from an idle keep-alive, and a lossy path from a quiet one. Fields an older kernel does not send are null.
/// </summary>
/// <param name="LastReceivedMilliseconds">Since data was last received (or, before any, since the connection began).</param>
/// <param name="LastSentMilliseconds">Since data was last sent (likewise).</param>
/// <param name="RttMilliseconds">The smoothed round-trip time.</param>
/// <param name="Retransmits">Segments retransmitted over the connection's life.</param>
public sealed record TcpFacts(
    uint LastReceivedMilliseconds,
    uint LastSentMilliseconds,
    double RttMilliseconds,
    uint Retransmits,
    uint Unacknowledged,
    ulong? BytesReceived,
    ulong? BytesSent,
    ulong? BytesAcked)
{
    /// <summary>How long no data moved either way, in words ("42 s", "3 min 12 s").</summary>
    public string Idle => Duration(Math.Min(LastReceivedMilliseconds, LastSentMilliseconds));

    /// <summary>"idle 42 s, 25 B in, 0 B out, rtt 0.05 ms" (and retransmits when there were any), for one line.</summary>
    public override string ToString()
    {
        var parts = new List<string> { "idle " + Idle };
        if (BytesReceived is ulong received)
        {
            parts.Add($"{received.ToString(CultureInfo.InvariantCulture)} B in");
        }

        if ((BytesSent ?? BytesAcked) is ulong sent)
        {
            parts.Add($"{sent.ToString(CultureInfo.InvariantCulture)} B out");
        }

        parts.Add($"rtt {RttMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)} ms");
        if (Retransmits > 0)
        {
            parts.Add($"{Retransmits.ToString(CultureInfo.InvariantCulture)} retransmitted");
        }

        return string.Join(", ", parts);
    }

    private static string Duration(uint milliseconds) => milliseconds switch
    {
        < 1000 => $"{milliseconds.ToString(CultureInfo.InvariantCulture)} ms",
        < 60_000 => $"{(milliseconds / 1000.0).ToString("0.#", CultureInfo.InvariantCulture)} s",
        < 3_600_000 => $"{(milliseconds / 60_000).ToString(CultureInfo.InvariantCulture)} min {(milliseconds / 1000 % 60).ToString(CultureInfo.InvariantCulture)} s",
        _ => $"{(milliseconds / 3_600_000).ToString(CultureInfo.InvariantCulture)} h {(milliseconds / 60_000 % 60).ToString(CultureInfo.InvariantCulture)} min",
    };
}

/// <summary>
/// Parsers of /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,udplite,udplite6} and /proc/net/unix: pure functions of text.
/// </summary>
public static class NetTableParser
{
    // include/net/tcp_states.h
    private static readonly string[] TcpStates =
    {
        "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
        "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE",
    };

    // include/uapi/linux/net.h socket_state, as /proc/net/unix prints it in St.
    private static readonly string[] UnixStates = { "FREE", "UNCONNECTED", "CONNECTING", "CONNECTED", "DISCONNECTING" };

    /// <summary>__SO_ACCEPTCON in include/linux/net.h: the unix socket is listening.</summary>
    public const uint SO_ACCEPTCON = 1u << 16;

    /// <summary>
    /// Parses an inet table. <paramref name="protocol"/> names it ("TCP", "UDP6"...). Addresses are the kernel's
    /// in-memory bytes printed as native-endian 32-bit words; ports are big-endian hex.
    /// </summary>
    public static IEnumerable<SocketEntry> ParseInet(string text, string protocol) => ParseLines(text, line => ParseInetLine(line, protocol));

    private delegate SocketEntry? LineParser(ReadOnlySpan<char> line);

    /// <summary>Parses /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path".</summary>
    public static IEnumerable<SocketEntry> ParseUnix(string text) => ParseLines(text, line => ParseUnixLine(line));

    /// <summary>One line of /proc/net/tcp, udp, raw and their v6 and lite kin; null for the header or a line not understood.</summary>
    public static SocketEntry? ParseInetLine(ReadOnlySpan<char> line, string protocol)
    {
        bool datagram = !protocol.StartsWith("TCP", StringComparison.Ordinal);
        Span<Range> ranges = stackalloc Range[11];
        int count = Fields(line, ranges);
        if (count < 10 || !line[ranges[0]].EndsWith(":") || !char.IsDigit(line[ranges[0]][0]))
        {
            return null; // the header, or a blank line
        }

        if (!TryEndpoint(line[ranges[1]], out var local, out int localPort) || !TryEndpoint(line[ranges[2]], out var remote, out int remotePort)
            || !byte.TryParse(line[ranges[3]], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte state)
            || !ulong.TryParse(line[ranges[9]], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
        {
            return null;
        }

        // tx_queue:rx_queue, hex: bytes not yet acknowledged and not yet read (for a listener, connections waiting).
        var queues = line[ranges[4]];
        int colon = queues.IndexOf(':');
        long? sendQueue = colon > 0 && long.TryParse(queues[..colon], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long tx) ? tx : null;
        long? receiveQueue = colon > 0 && long.TryParse(queues[(colon + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long rx) ? rx : null;
        return new SocketEntry(inode, protocol, StateName(state, datagram), local, localPort, remote, remotePort, null, null, receiveQueue, sendQueue);
    }

    /// <summary>One line of /proc/net/unix; null for the header or a line not understood.</summary>
    public static SocketEntry? ParseUnixLine(ReadOnlySpan<char> line)
    {
        Span<Range> ranges = stackalloc Range[8];
        int count = Fields(line, ranges);
        if (count < 7 || !line[ranges[0]].EndsWith(":")
            || !uint.TryParse(line[ranges[3]], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint flags)
            || !int.TryParse(line[ranges[4]], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int type)
            || !byte.TryParse(line[ranges[5]], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte state)
            || !ulong.TryParse(line[ranges[6]], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
        {
            return null;
        }

        string protocol = UnixProtocol(type);
        string stateName = (flags & SO_ACCEPTCON) != 0 ? "LISTEN" : state < UnixStates.Length ? UnixStates[state] : "STATE" + state;

        // An abstract address is printed with '@' for its leading NUL; an unnamed socket has no path.
        string path = count > 7 ? line[ranges[7]].Trim().ToString() : string.Empty;
        return new SocketEntry(inode, protocol, stateName, null, null, null, null, path);
    }

    /// <summary>"UNIX STREAM" and the like for a unix socket's type. Literals, not "UNIX " + name: a busy host has 100,000 of these entries.</summary>
    public static string UnixProtocol(int type) => type switch
    {
        SocketConstants.SOCK_STREAM => "UNIX STREAM",
        SocketConstants.SOCK_DGRAM => "UNIX DGRAM",
        SocketConstants.SOCK_SEQPACKET => "UNIX SEQPACKET",
        _ => "UNIX TYPE" + type,
    };

    /// <summary>
    /// The entries of /proc/net/unix that can be believed, by inode. A socket's name is printed as it is, newlines
    /// included, so whoever binds a name can add lines of their own: an inode on more than one line is given as
    /// unsure (no path, <see cref="SocketEntry.Unsure"/> says why), never from the first line that names it, and a
    /// line whose inode is a socket of another family (<paramref name="otherFamilies"/>: inet, netlink, packet,
    /// whose tables hold no user text) is dropped.
    /// </summary>
    public static Dictionary<ulong, SocketEntry> TrustUnixLines(IEnumerable<SocketEntry> lines, IReadOnlySet<ulong> otherFamilies)
    {
        var trusted = new Dictionary<ulong, SocketEntry>();
        var repeated = new HashSet<ulong>();
        foreach (var entry in lines)
        {
            if (!otherFamilies.Contains(entry.Inode) && !trusted.TryAdd(entry.Inode, entry))
            {
                repeated.Add(entry.Inode);
            }
        }

        foreach (ulong inode in repeated)
        {
            trusted[inode] = trusted[inode] with { Path = null, Unsure = "its inode is on more than one line of /proc/net/unix (a socket's name can hold a newline)" };
        }

        return trusted;
    }

    /// <summary>The inode of a line of /proc/net/netlink or /proc/net/packet (their last field); null for the header.</summary>
    public static ulong? ParseLastFieldInode(ReadOnlySpan<char> line)
    {
        var trimmed = line.TrimEnd();
        int space = trimmed.LastIndexOf(' ');
        return space > 0 && ulong.TryParse(trimmed[(space + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode) && inode != 0 ? inode : null;
    }

    private static List<SocketEntry> ParseLines(string text, LineParser parse)
    {
        var entries = new List<SocketEntry>();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (parse(line) is SocketEntry entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    /// <summary>
    /// The space-separated fields of a line as ranges of it, no string made (a busy host's tables run to 100,000
    /// lines): at most as many as <paramref name="fields"/> holds, the last keeping the rest of the line.
    /// </summary>
    private static int Fields(ReadOnlySpan<char> line, Span<Range> fields) => line.Split(fields, ' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A socket state is one byte (sk_state); a wider value is not a state and its line is skipped.</summary>
    public static string StateName(byte state, bool datagram)
    {
        if (datagram)
        {
            // UDP reuses TCP_ESTABLISHED for a connected socket and TCP_CLOSE for an unconnected one.
            return state switch { 1 => "CONNECTED", 7 => "UNCONNECTED", _ => state < TcpStates.Length ? TcpStates[state] : "STATE" + state };
        }

        return state < TcpStates.Length ? TcpStates[state] : "STATE" + state;
    }

    /// <summary>"0100007F:1F90" or a 32-digit IPv6 form; each 8 hex digits are one native-endian 32-bit word.</summary>
    private static bool TryEndpoint(ReadOnlySpan<char> text, out IPAddress address, out int port)
    {
        address = IPAddress.None;
        port = 0;
        int colon = text.IndexOf(':');
        if (colon != 8 && colon != 32)
        {
            return false;
        }

        var bytes = new byte[colon / 2];
        for (int word = 0; word < colon / 8; word++)
        {
            if (!uint.TryParse(text.Slice(word * 8, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint value))
            {
                return false;
            }

            // The kernel printed the in-memory (network order) bytes as a native integer.
            if (!BitConverter.TryWriteBytes(bytes.AsSpan(word * 4, 4), value))
            {
                return false;
            }
        }

        // A port is 16 bits; parsed as such, FFFFFFFF is refused rather than read as -1.
        if (!ushort.TryParse(text.Slice(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort port16))
        {
            return false;
        }

        port = port16;

        address = Plain(new IPAddress(bytes));
        return true;
    }

    /// <summary>An IPv4 address as such, also where a dual-stack IPv6 socket holds it mapped (::ffff:127.0.0.1).</summary>
    public static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
