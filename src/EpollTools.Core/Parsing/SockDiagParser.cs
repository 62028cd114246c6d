using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;
using EpollTools.Core.Native;

namespace EpollTools.Core.Parsing;

/// <summary>The netlink messages of unix and inet sock_diag dumps, written and read as pure functions of bytes.</summary>
public static class SockDiagParser
{
    /// <summary>Where a dump stands after one datagram of it.</summary>
    public enum Progress
    {
        More,
        Done,
        Failed,
    }

    /// <summary>One SOCK_DIAG_BY_FAMILY message's payload to a socket; null if it is cut short or names none.</summary>
    public delegate SocketEntry? MessageParser(ReadOnlySpan<byte> payload);

    /// <summary>
    /// A SOCK_DIAG_BY_FAMILY dump request (struct inet_diag_req_v2) for every socket of one family and protocol, in
    /// every state; TCP's with their struct tcp_info.
    /// </summary>
    public static void WriteInetDumpRequest(Span<byte> message, uint sequence, byte family, byte protocol)
    {
        WriteHeader(message, sequence);
        var request = message[SockDiagConstants.NlMsgHdrSize..];
        request[0] = family;                                                                              // sdiag_family
        request[1] = protocol;                                                                            // sdiag_protocol
        request[2] = protocol == SocketConstants.IPPROTO_TCP ? SockDiagConstants.InetDiagInfoExtension : (byte)0; // idiag_ext
        BinaryPrimitives.WriteUInt32LittleEndian(request[4..], uint.MaxValue);                            // idiag_states: all
    }

    /// <summary>
    /// One struct inet_diag_msg and its attributes, as <paramref name="protocol"/> ("TCP", "UDP6"...); null if it is
    /// cut short, or for a socket no fd can hold (inode 0: TIME_WAIT, a connection not yet accepted).
    /// </summary>
    public static SocketEntry? ParseInetMessage(ReadOnlySpan<byte> payload, string protocol)
    {
        if (payload.Length < SockDiagConstants.InetDiagMsgSize)
        {
            return null;
        }

        ulong inode = BinaryPrimitives.ReadUInt32LittleEndian(payload[SockDiagConstants.InetDiagInode..]);
        if (inode == 0)
        {
            return null;
        }

        int addressLength = payload[0] == SocketConstants.AF_INET6 ? 16 : 4;
        var local = NetTableParser.Plain(new System.Net.IPAddress(payload.Slice(SockDiagConstants.InetDiagSource, addressLength)));
        var remote = NetTableParser.Plain(new System.Net.IPAddress(payload.Slice(SockDiagConstants.InetDiagDestination, addressLength)));
        int localPort = BinaryPrimitives.ReadUInt16BigEndian(payload[SockDiagConstants.InetDiagSourcePort..]);
        int remotePort = BinaryPrimitives.ReadUInt16BigEndian(payload[SockDiagConstants.InetDiagDestinationPort..]);
        long receiveQueue = BinaryPrimitives.ReadUInt32LittleEndian(payload[SockDiagConstants.InetDiagReceiveQueue..]);
        long sendQueue = BinaryPrimitives.ReadUInt32LittleEndian(payload[SockDiagConstants.InetDiagSendQueue..]);
        TcpFacts? tcp = null;
        var attributes = new AttributeReader(payload[SockDiagConstants.InetDiagMsgSize..]);
        while (attributes.Next(out ushort kind, out var data))
        {
            if (kind == SockDiagConstants.INET_DIAG_INFO)
            {
                tcp = ParseTcpInfo(data);
            }
        }

        if (attributes.Malformed)
        {
            return null;
        }

        bool datagram = !protocol.StartsWith("TCP", StringComparison.Ordinal);
        return new SocketEntry(inode, protocol, NetTableParser.StateName(payload[1], datagram), local, localPort, remote, remotePort, null, null,
            receiveQueue, sendQueue, Tcp: tcp);
    }

    /// <summary>The fields of struct tcp_info that <see cref="TcpFacts"/> holds; null if even the oldest are not there.</summary>
    public static TcpFacts? ParseTcpInfo(ReadOnlySpan<byte> info)
    {
        if (info.Length < TcpInfoLayout.TotalRetransmits + 4)
        {
            return null;
        }

        return new TcpFacts(U32(info, TcpInfoLayout.LastDataReceived), U32(info, TcpInfoLayout.LastDataSent), U32(info, TcpInfoLayout.Rtt) / 1000.0,
            U32(info, TcpInfoLayout.TotalRetransmits), U32(info, TcpInfoLayout.Unacked),
            U64(info, TcpInfoLayout.BytesReceived), U64(info, TcpInfoLayout.BytesSent), U64(info, TcpInfoLayout.BytesAcked));
    }

    private static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);

    /// <summary>A u64 field, or null where an older kernel's struct ends before it.</summary>
    private static ulong? U64(ReadOnlySpan<byte> bytes, int offset) => bytes.Length >= offset + 8 ? BinaryPrimitives.ReadUInt64LittleEndian(bytes[offset..]) : null;

    /// <summary>A SOCK_DIAG_BY_FAMILY dump request for every unix socket, with its name, peer and queues.</summary>
    public static void WriteUnixDumpRequest(Span<byte> message, uint sequence)
    {
        WriteHeader(message, sequence);
        var request = message[SockDiagConstants.NlMsgHdrSize..];
        request[0] = SocketConstants.AF_UNIX;                                                             // sdiag_family
        BinaryPrimitives.WriteUInt32LittleEndian(request[4..], uint.MaxValue);                            // udiag_states: all
        BinaryPrimitives.WriteUInt32LittleEndian(request[12..],
            SockDiagConstants.UDIAG_SHOW_NAME | SockDiagConstants.UDIAG_SHOW_PEER | SockDiagConstants.UDIAG_SHOW_RQLEN);
    }

    /// <summary>The netlink header of a dump request that fills <paramref name="message"/>, the rest zeroed.</summary>
    private static void WriteHeader(Span<byte> message, uint sequence)
    {
        message.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);                        // nlmsg_len
        BinaryPrimitives.WriteUInt16LittleEndian(message[4..], SockDiagConstants.SOCK_DIAG_BY_FAMILY);  // nlmsg_type
        BinaryPrimitives.WriteUInt16LittleEndian(message[6..], SockDiagConstants.NLM_F_REQUEST | SockDiagConstants.NLM_F_DUMP);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], sequence);                                // nlmsg_seq
    }

    /// <summary>The unix sockets of one received datagram of a unix dump (see <see cref="ParseMessages"/>).</summary>
    public static Progress ParseUnixMessages(ReadOnlySpan<byte> datagram, Dictionary<ulong, SocketEntry> sockets)
        => ParseMessages(datagram, ParseUnixMessage, sockets);

    /// <summary>
    /// Adds the sockets of one received datagram (one or more netlink messages) to <paramref name="sockets"/>; says
    /// whether the dump is done, failed (an error message, or bytes that are no message), or goes on. Host byte
    /// order, as netlink is; the machines this runs on are little-endian.
    /// </summary>
    public static Progress ParseMessages(ReadOnlySpan<byte> datagram, MessageParser parse, Dictionary<ulong, SocketEntry> sockets)
    {
        while (datagram.Length >= SockDiagConstants.NlMsgHdrSize)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            if (length < SockDiagConstants.NlMsgHdrSize || length > datagram.Length)
            {
                return Progress.Failed;
            }

            if (type == SockDiagConstants.NLMSG_DONE)
            {
                return Progress.Done;
            }

            if (type == SockDiagConstants.NLMSG_ERROR)
            {
                return Progress.Failed;
            }

            if (type == SockDiagConstants.SOCK_DIAG_BY_FAMILY && parse(datagram[SockDiagConstants.NlMsgHdrSize..(int)length]) is SocketEntry entry)
            {
                sockets[entry.Inode] = entry;
            }

            int next = Align((int)length);
            if (next >= datagram.Length)
            {
                break;
            }

            datagram = datagram[next..];
        }

        return Progress.More;
    }

    /// <summary>One struct unix_diag_msg and its attributes; null if it is cut short.</summary>
    public static SocketEntry? ParseUnixMessage(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < SockDiagConstants.UnixDiagMsgSize)
        {
            return null;
        }

        byte type = payload[1];
        byte state = payload[2];
        ulong inode = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        string? path = null;
        ulong? peer = null;
        long? receiveQueue = null, sendQueue = null;
        var attributes = new AttributeReader(payload[SockDiagConstants.UnixDiagMsgSize..]);
        while (attributes.Next(out ushort kind, out var data))
        {
            switch (kind)
            {
                case SockDiagConstants.UNIX_DIAG_NAME:
                    path = NameOf(data);
                    break;
                case SockDiagConstants.UNIX_DIAG_PEER when data.Length >= 4:
                    peer = BinaryPrimitives.ReadUInt32LittleEndian(data);
                    break;
                case SockDiagConstants.UNIX_DIAG_RQLEN when data.Length >= 8:
                    receiveQueue = BinaryPrimitives.ReadUInt32LittleEndian(data);
                    sendQueue = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
                    break;
            }
        }

        if (attributes.Malformed)
        {
            return null;
        }

        return new SocketEntry(inode, NetTableParser.UnixProtocol(type), StateOf(state), null, null, null, null, path ?? string.Empty, peer, receiveQueue, sendQueue);
    }

    /// <summary>
    /// A socket's name as bound, every byte kept: a path up to its NUL (a binder may count it in), an abstract name
    /// with '@' for its leading NUL (as ss and /proc/net/unix write it) and for any other NUL in it.
    /// </summary>
    private static string NameOf(ReadOnlySpan<byte> name)
    {
        if (name.Length > 0 && name[0] == 0)
        {
            return "@" + Encoding.UTF8.GetString(name[1..]).Replace('\0', '@');
        }

        int end = name.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
    }

    /// <summary>The state as /proc/net/unix names it: sock_diag gives sk_state (TCP_* values), not socket_state.</summary>
    private static string StateOf(byte state) => state switch
    {
        SockDiagConstants.TCP_LISTEN => "LISTEN",
        SockDiagConstants.TCP_ESTABLISHED => "CONNECTED",
        SockDiagConstants.TCP_SYN_SENT => "CONNECTING",
        SockDiagConstants.TCP_CLOSE => "UNCONNECTED",
        _ => "STATE" + state,
    };

    /// <summary>NLMSG_ALIGN and RTA_ALIGN: 4 bytes.</summary>
    private static int Align(int length) => (length + 3) & ~3;

    /// <summary>The struct rtattr attributes after a message's fixed part, one at a time; Malformed if one overran them.</summary>
    private ref struct AttributeReader
    {
        private ReadOnlySpan<byte> _rest;

        public AttributeReader(ReadOnlySpan<byte> attributes) => _rest = attributes;

        public bool Malformed { get; private set; }

        public bool Next(out ushort kind, out ReadOnlySpan<byte> data)
        {
            kind = 0;
            data = default;
            if (_rest.Length < SockDiagConstants.RtAttrSize)
            {
                return false;
            }

            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            kind = BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]);
            if (length < SockDiagConstants.RtAttrSize || length > _rest.Length)
            {
                Malformed = true;
                return false;
            }

            data = _rest[SockDiagConstants.RtAttrSize..length];
            int next = Align(length);
            _rest = next >= _rest.Length ? ReadOnlySpan<byte>.Empty : _rest[next..];
            return true;
        }
    }
}
