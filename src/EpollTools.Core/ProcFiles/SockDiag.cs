using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// The unix sockets of a network namespace as ss reads them: a SOCK_DIAG_BY_FAMILY dump over NETLINK_SOCK_DIAG,
/// each socket with its name (length-prefixed: no byte of a name can be taken for another socket's line, as it can
/// in /proc/net/unix), its peer's inode and its queues. Netlink answers for the namespace of the socket that asks:
/// for another namespace, the socket is made on a thread of its own that enters that namespace for the moment
/// (setns, as ss -N does; it needs CAP_SYS_ADMIN).
/// </summary>
public static class SockDiag
{
    private const int ReceiveBufferSize = 64 * 1024;

    /// <summary>
    /// A NETLINK_SOCK_DIAG socket of this process's network namespace, or of the one <paramref name="pid"/> is in,
    /// for the dumps below (one socket, and one entry into another namespace, serves them all); null where netlink
    /// sock_diag cannot be used there (not built, not allowed, the namespace not enterable).
    /// </summary>
    public static FileDescriptorHandle? Open(int? pid = null)
    {
        int fd = pid is int other ? DiagSocketIn($"{ProcFs.Root}/{other}/ns/net") : DiagSocket();
        return fd < 0 ? null : new FileDescriptorHandle(fd);
    }

    /// <summary>The unix sockets by inode, from a socket <see cref="Open"/> made; null if the dump failed.</summary>
    public static Dictionary<ulong, SocketEntry>? ReadUnixSockets(FileDescriptorHandle socket)
    {
        Span<byte> request = stackalloc byte[SockDiagConstants.NlMsgHdrSize + SockDiagConstants.UnixDiagReqSize];
        SockDiagParser.WriteUnixDumpRequest(request, sequence: 1);
        var sockets = new Dictionary<ulong, SocketEntry>();
        return Dump(socket.Number, request, SockDiagParser.ParseUnixMessage, sockets) ? sockets : null;
    }

    /// <summary>
    /// The TCP and UDP sockets (IPv4 and IPv6) by inode, from a socket <see cref="Open"/> made, each TCP socket with
    /// its <see cref="TcpFacts"/> (INET_DIAG_INFO: struct tcp_info); null where netlink cannot answer for all four.
    /// </summary>
    public static Dictionary<ulong, SocketEntry>? ReadInetSockets(FileDescriptorHandle socket)
    {
        int fd = socket.Number;
        var sockets = new Dictionary<ulong, SocketEntry>();
        Span<byte> request = stackalloc byte[SockDiagConstants.NlMsgHdrSize + SockDiagConstants.InetDiagReqV2Size];
        uint sequence = 1; // numbers of their own, beside the unix dump's 1
        foreach (var (family, protocol, name) in InetDumps)
        {
            SockDiagParser.WriteInetDumpRequest(request, ++sequence, family, protocol);
            if (!Dump(fd, request, payload => SockDiagParser.ParseInetMessage(payload, name), sockets))
            {
                return null;
            }
        }

        return sockets;
    }

    private static readonly (byte Family, byte Protocol, string Name)[] InetDumps =
    {
        (SocketConstants.AF_INET, SocketConstants.IPPROTO_TCP, "TCP"), (SocketConstants.AF_INET6, SocketConstants.IPPROTO_TCP, "TCP6"),
        (SocketConstants.AF_INET, SocketConstants.IPPROTO_UDP, "UDP"), (SocketConstants.AF_INET6, SocketConstants.IPPROTO_UDP, "UDP6"),
    };

    /// <summary>Sends one dump request and adds the sockets of every answer to <paramref name="sockets"/>; false if it failed.</summary>
    private static unsafe bool Dump(int fd, ReadOnlySpan<byte> request, SockDiagParser.MessageParser parse, Dictionary<ulong, SocketEntry> sockets)
    {
        fixed (byte* bytes = request)
        {
            if (NativeMethods.send(fd, bytes, (nuint)request.Length, 0) != request.Length)
            {
                return false;
            }
        }

        var buffer = new byte[ReceiveBufferSize];
        while (true)
        {
            nint received;
            fixed (byte* bytes = buffer)
            {
                received = NativeMethods.recv(fd, bytes, (nuint)buffer.Length, 0);
            }

            if (received < 0)
            {
                if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                    continue;
                }

                return false;
            }

            switch (SockDiagParser.ParseMessages(buffer.AsSpan(0, (int)received), parse, sockets))
            {
                case SockDiagParser.Progress.Done:
                    return true;
                case SockDiagParser.Progress.Failed:
                    return false;
            }
        }
    }

    /// <summary>A NETLINK_SOCK_DIAG socket in this thread's namespace; -1 where there is none. At the fd limit, throws.</summary>
    private static int DiagSocket()
    {
        int fd = NativeMethods.socket(SockDiagConstants.AF_NETLINK, SocketConstants.SOCK_DGRAM | SocketConstants.SOCK_CLOEXEC, SockDiagConstants.NETLINK_SOCK_DIAG);
        int errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return errno is Errno.EMFILE or Errno.ENFILE ? throw new LinuxErrorException(errno, "socket(AF_NETLINK)") : fd;
    }

    /// <summary>
    /// A NETLINK_SOCK_DIAG socket in the network namespace at <paramref name="namespacePath"/>, made on a thread of
    /// its own that enters the namespace and leaves it again (a socket keeps the namespace it was made in); -1 where
    /// the namespace cannot be entered. The thread ends when it is done, so no other work ever runs in the namespace.
    /// </summary>
    private static int DiagSocketIn(string namespacePath)
    {
        int target = NativeMethods.open(namespacePath, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (target < 0)
        {
            return -1;
        }

        using var targetHandle = new FileDescriptorHandle(target);
        int own = NativeMethods.open($"{ProcFs.Root}/thread-self/ns/net", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (own < 0)
        {
            return -1;
        }

        using var ownHandle = new FileDescriptorHandle(own);
        int fd = -1;
        Exception? failure = null;
        var thread = new System.Threading.Thread(() =>
        {
            if (NativeMethods.setns(target, SockDiagConstants.CLONE_NEWNET) != 0)
            {
                return; // EPERM without CAP_SYS_ADMIN: the text table it is
            }

            try
            {
                fd = DiagSocket();
            }
            catch (LinuxErrorException e)
            {
                failure = e;
            }
            finally
            {
                NativeMethods.setns(own, SockDiagConstants.CLONE_NEWNET);
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? fd : throw failure;
    }
}
