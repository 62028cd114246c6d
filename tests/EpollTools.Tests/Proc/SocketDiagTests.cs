using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>
/// The unix sock_diag messages (built here as the kernel lays them out: include/uapi/linux/unix_diag.h) and the
/// trust rules for /proc/net/unix text, which a socket's name can forge.
/// </summary>
public sealed class SocketDiagTests
{
    [Fact]
    public void ReadsASocketWithItsNamePeerAndQueuesEveryByteKept()
    {
        var message = Message(type: 1, state: SockDiagConstants.TCP_ESTABLISHED, inode: 4242,
            (SockDiagConstants.UNIX_DIAG_NAME, Encoding.UTF8.GetBytes("/run/sp ace \n0000: fake")),
            (SockDiagConstants.UNIX_DIAG_PEER, BitConverter.GetBytes(4243u)),
            (SockDiagConstants.UNIX_DIAG_RQLEN, BitConverter.GetBytes(25u).Concat(BitConverter.GetBytes(0u)).ToArray()));
        var sockets = new Dictionary<ulong, SocketEntry>();
        Assert.Equal(SockDiagParser.Progress.Done, SockDiagParser.ParseUnixMessages(message.Concat(Done()).ToArray(), sockets));
        var entry = Assert.Single(sockets.Values);
        Assert.Equal(4242UL, entry.Inode);
        Assert.Equal("UNIX STREAM", entry.Protocol);
        Assert.Equal("CONNECTED", entry.State);
        Assert.Equal("/run/sp ace \n0000: fake", entry.Path); // one name, newline and all: it cannot make a line
        Assert.Equal(4243UL, entry.PeerInode);
        Assert.Equal(25L, entry.ReceiveQueue);
        Assert.Equal("UNIX STREAM CONNECTED /run/sp ace \n0000: fake, 25 bytes unread, peer socket:[4243]", entry.ToString());
    }

    [Fact]
    public void WritesAnAbstractNameWithAtForItsNuls()
    {
        var message = Message(type: 5, state: SockDiagConstants.TCP_LISTEN, inode: 7,
            (SockDiagConstants.UNIX_DIAG_NAME, new byte[] { 0, (byte)'a', 0, (byte)'b' }));
        var sockets = new Dictionary<ulong, SocketEntry>();
        Assert.Equal(SockDiagParser.Progress.More, SockDiagParser.ParseUnixMessages(message, sockets));
        Assert.Equal("UNIX SEQPACKET LISTEN @a@b", sockets[7].ToString());
    }

    [Fact]
    public void StopsAtAnErrorOrAMessageCutShort()
    {
        var error = new byte[SockDiagConstants.NlMsgHdrSize + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(error, (uint)error.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(error.AsSpan(4), SockDiagConstants.NLMSG_ERROR);
        Assert.Equal(SockDiagParser.Progress.Failed, SockDiagParser.ParseUnixMessages(error, new()));

        var message = Message(type: 1, state: SockDiagConstants.TCP_CLOSE, inode: 9);
        Assert.Equal(SockDiagParser.Progress.Failed, SockDiagParser.ParseUnixMessages(message.AsSpan(0, message.Length - 1), new()));
    }

    [Fact]
    public void ReadsATcpConnectionWithWhatTcpInfoKeepsOfItsTraffic()
    {
        var message = InetMessage(SocketConstants.AF_INET, SockDiagConstants.TCP_ESTABLISHED, new byte[] { 127, 0, 0, 1 }, 8080, new byte[] { 127, 0, 0, 2 }, 50000,
            receiveQueue: 25, sendQueue: 3, inode: 77,
            (SockDiagConstants.INET_DIAG_INFO, TcpInfo(232, lastReceived: 42_000, lastSent: 50_000, rttMicroseconds: 190, retransmits: 2, received: 25, sent: 7)));
        var sockets = new Dictionary<ulong, SocketEntry>();
        Assert.Equal(SockDiagParser.Progress.Done, SockDiagParser.ParseMessages(message.Concat(Done()).ToArray(), payload => SockDiagParser.ParseInetMessage(payload, "TCP"), sockets));
        var entry = sockets[77];
        Assert.Equal(8080, entry.LocalPort);
        Assert.Equal(50000, entry.RemotePort);
        Assert.Equal(42_000u, entry.Tcp!.LastReceivedMilliseconds);
        Assert.Equal(25UL, entry.Tcp.BytesReceived);
        Assert.Equal("TCP 127.0.0.1:8080 -> 127.0.0.2:50000 ESTABLISHED, 25 bytes unread, 3 bytes not yet taken by the peer, idle 42 s, 25 B in, 7 B out, rtt 0.19 ms, 2 retransmitted", entry.ToString());
    }

    [Fact]
    public void ReadsAnOlderKernelsShorterTcpInfoAndSaysOnlyWhatItHas()
    {
        // Linux 4.0's struct tcp_info ends after tcpi_total_retrans (104 bytes): no byte counts.
        var facts = SockDiagParser.ParseTcpInfo(TcpInfo(104, lastReceived: 200_000, lastSent: 5_000, rttMicroseconds: 1500, retransmits: 0, received: 9, sent: 9));
        Assert.Null(facts!.BytesReceived);
        Assert.Null(facts.BytesSent);
        Assert.Equal("idle 5 s, rtt 1.5 ms", facts.ToString());
        Assert.Null(SockDiagParser.ParseTcpInfo(new byte[100]));
        Assert.Equal("idle 3 min 20 s, rtt 1.5 ms", (facts with { LastSentMilliseconds = 300_000 }).ToString());
    }

    [Fact]
    public void ReadsIPv6AndAMappedIPv4AddressAsItsAddressAndSkipsWhatNoFdHolds()
    {
        var mapped = new byte[16];
        mapped[10] = mapped[11] = 0xff;
        new byte[] { 10, 0, 0, 1 }.CopyTo(mapped, 12);
        var loopback6 = new byte[16];
        loopback6[15] = 1;
        var dualStack = SockDiagParser.ParseInetMessage(InetMessage(SocketConstants.AF_INET6, SockDiagConstants.TCP_LISTEN, mapped, 80, new byte[16], 0, 0, 128, 5)[SockDiagConstants.NlMsgHdrSize..], "TCP6");
        Assert.Equal("TCP6 10.0.0.1:80 LISTEN", dualStack!.ToString());
        var v6 = SockDiagParser.ParseInetMessage(InetMessage(SocketConstants.AF_INET6, SockDiagConstants.TCP_CLOSE, loopback6, 53, new byte[16], 0, 0, 0, 6)[SockDiagConstants.NlMsgHdrSize..], "UDP6");
        Assert.Equal("UDP6 [::1]:53 UNCONNECTED", v6!.ToString());
        // TIME_WAIT and connections not yet accepted have no inode: no fd holds them.
        Assert.Null(SockDiagParser.ParseInetMessage(InetMessage(SocketConstants.AF_INET, 6, new byte[4], 80, new byte[4], 9, 0, 0, 0)[SockDiagConstants.NlMsgHdrSize..], "TCP"));
        Assert.Null(SockDiagParser.ParseInetMessage(new byte[SockDiagConstants.InetDiagMsgSize - 1], "TCP"));
    }

    [Fact]
    public void WritesADumpRequestPerFamilyAndProtocolAskingTcpInfoOfTcpOnly()
    {
        var request = new byte[SockDiagConstants.NlMsgHdrSize + SockDiagConstants.InetDiagReqV2Size];
        SockDiagParser.WriteInetDumpRequest(request, 3, SocketConstants.AF_INET6, SocketConstants.IPPROTO_TCP);
        Assert.Equal((uint)request.Length, BinaryPrimitives.ReadUInt32LittleEndian(request));
        Assert.Equal(SockDiagConstants.SOCK_DIAG_BY_FAMILY, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(4)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(8)));
        Assert.Equal(new byte[] { SocketConstants.AF_INET6, SocketConstants.IPPROTO_TCP, 2, 0, 0xff, 0xff, 0xff, 0xff }, request[16..24]);
        SockDiagParser.WriteInetDumpRequest(request, 4, SocketConstants.AF_INET, SocketConstants.IPPROTO_UDP);
        Assert.Equal(new byte[] { SocketConstants.AF_INET, SocketConstants.IPPROTO_UDP, 0, 0 }, request[16..20]);
        Assert.All(request[24..], b => Assert.Equal(0, b)); // any socket: the id is left empty
    }

    [Fact]
    public void NoMutationOfAMessageMakesAParserThrow()
    {
        // Seeded, so that a failure is the same on every run: byte flips and cuts of real-shaped messages.
        var random = new Random(20261130);
        var shapes = new[]
        {
            InetMessage(SocketConstants.AF_INET6, 1, new byte[16], 1, new byte[16], 2, 3, 4, 5, (SockDiagConstants.INET_DIAG_INFO, TcpInfo(232, 1, 2, 3, 4, 5, 6))),
            Message(type: 1, state: 1, inode: 9, (SockDiagConstants.UNIX_DIAG_NAME, new byte[] { 47, 0 }), (SockDiagConstants.UNIX_DIAG_RQLEN, new byte[8])),
        };
        for (int i = 0; i < 20000; i++)
        {
            var bytes = shapes[i % shapes.Length].ToArray();
            for (int flips = random.Next(1, 6); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            var cut = bytes.AsSpan(0, random.Next(bytes.Length + 1));
            _ = SockDiagParser.ParseMessages(cut, payload => SockDiagParser.ParseInetMessage(payload, "TCP"), new());
            _ = SockDiagParser.ParseMessages(cut, SockDiagParser.ParseUnixMessage, new());
            _ = SockDiagParser.ParseTcpInfo(cut);
        }
    }

    [Fact]
    public void WritesADumpRequestForEveryUnixSocket()
    {
        var request = new byte[SockDiagConstants.NlMsgHdrSize + SockDiagConstants.UnixDiagReqSize];
        SockDiagParser.WriteUnixDumpRequest(request, sequence: 3);
        Assert.Equal((uint)request.Length, BinaryPrimitives.ReadUInt32LittleEndian(request));
        Assert.Equal(SockDiagConstants.SOCK_DIAG_BY_FAMILY, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(4)));
        Assert.Equal((ushort)(SockDiagConstants.NLM_F_REQUEST | SockDiagConstants.NLM_F_DUMP), BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(6)));
        Assert.Equal(SocketConstants.AF_UNIX, request[16]);
        Assert.Equal(uint.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(20)));
    }

    [Fact]
    public void DoesNotBelieveAForgedLineOfTheTextTable()
    {
        // A socket bound to "@f\n<a whole line>" prints that line into /proc/net/unix: it claims inode 555 (a
        // netlink socket's) and inode 101 (a real unix socket's, listed too).
        const string Table = """
            Num       RefCount Protocol Flags    Type St Inode Path
            0000000000000000: 00000002 00000000 00010000 0001 01 101 /run/real.sock
            0000000000000000: 00000002 00000000 00010000 0001 01 900 @f
            0000000000000000: 00000002 00000000 00010000 0001 01 555 /tmp/evil.sock
            0000000000000000: 00000002 00000000 00010000 0001 01 901 @g
            0000000000000000: 00000002 00000000 00010000 0001 01 101 /tmp/evil.sock
            """;
        var trusted = NetTableParser.TrustUnixLines(NetTableParser.ParseUnix(Table), new HashSet<ulong> { 555 });
        Assert.False(trusted.ContainsKey(555)); // another family's socket: the unix line is a forgery
        Assert.Null(trusted[101].Path);          // two lines claim it: neither is believed
        Assert.StartsWith("socket:[101] not known for sure", trusted[101].ToString());
        Assert.Equal("@f", trusted[900].Path);
    }

    private static byte[] Message(byte type, byte state, uint inode, params (ushort Kind, byte[] Data)[] attributes)
    {
        var fixedPart = new List<byte>();
        fixedPart.AddRange(new byte[] { SocketConstants.AF_UNIX, type, state, 0 });
        fixedPart.AddRange(BitConverter.GetBytes(inode));
        fixedPart.AddRange(new byte[8]); // udiag_cookie
        return Framed(fixedPart.ToArray(), attributes);
    }

    /// <summary>struct inet_diag_msg as the kernel lays it out (include/uapi/linux/inet_diag.h), addresses in network order.</summary>
    private static byte[] InetMessage(byte family, byte state, byte[] source, ushort sourcePort, byte[] destination, ushort destinationPort,
        uint receiveQueue, uint sendQueue, uint inode, params (ushort Kind, byte[] Data)[] attributes)
    {
        var message = new byte[SockDiagConstants.InetDiagMsgSize];
        message[0] = family;
        message[1] = state;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(SockDiagConstants.InetDiagSourcePort), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(SockDiagConstants.InetDiagDestinationPort), destinationPort);
        source.CopyTo(message, SockDiagConstants.InetDiagSource);
        destination.CopyTo(message, SockDiagConstants.InetDiagDestination);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(SockDiagConstants.InetDiagReceiveQueue), receiveQueue);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(SockDiagConstants.InetDiagSendQueue), sendQueue);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(SockDiagConstants.InetDiagInode), inode);
        return Framed(message, attributes);
    }

    /// <summary>struct tcp_info of <paramref name="size"/> bytes (232 on Linux 6.x; older kernels send less).</summary>
    private static byte[] TcpInfo(int size, uint lastReceived, uint lastSent, uint rttMicroseconds, uint retransmits, ulong received, ulong sent)
    {
        var info = new byte[232];
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(TcpInfoLayout.LastDataReceived), lastReceived);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(TcpInfoLayout.LastDataSent), lastSent);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(TcpInfoLayout.Rtt), rttMicroseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(TcpInfoLayout.TotalRetransmits), retransmits);
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(TcpInfoLayout.BytesReceived), received);
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(TcpInfoLayout.BytesSent), sent);
        BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(TcpInfoLayout.BytesAcked), sent);
        return info[..size];
    }

    /// <summary>A SOCK_DIAG_BY_FAMILY netlink message: the header, the fixed part, then each attribute padded to 4 bytes.</summary>
    private static byte[] Framed(byte[] fixedPart, (ushort Kind, byte[] Data)[] attributes)
    {
        var body = new List<byte>(fixedPart);
        foreach (var (kind, data) in attributes)
        {
            body.AddRange(BitConverter.GetBytes((ushort)(SockDiagConstants.RtAttrSize + data.Length)));
            body.AddRange(BitConverter.GetBytes(kind));
            body.AddRange(data);
            while (body.Count % 4 != 0)
            {
                body.Add(0);
            }
        }

        var header = new byte[SockDiagConstants.NlMsgHdrSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(header.Length + body.Count));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), SockDiagConstants.SOCK_DIAG_BY_FAMILY);
        return header.Concat(body).ToArray();
    }

    private static byte[] Done()
    {
        var done = new byte[SockDiagConstants.NlMsgHdrSize + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(done, (uint)done.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(done.AsSpan(4), SockDiagConstants.NLMSG_DONE);
        return done;
    }
}
