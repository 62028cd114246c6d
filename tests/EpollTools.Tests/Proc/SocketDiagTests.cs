using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
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
        Assert.Equal("UNIX STREAM CONNECTED /run/sp ace \n0000: fake, peer socket:[4243], 25 bytes unread", entry.ToString());
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
        var body = new List<byte>();
        body.AddRange(new byte[] { SocketConstants.AF_UNIX, type, state, 0 });
        body.AddRange(BitConverter.GetBytes(inode));
        body.AddRange(new byte[8]); // udiag_cookie
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
