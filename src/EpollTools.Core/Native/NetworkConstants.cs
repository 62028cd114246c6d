// The socket and netlink constants the module uses, defined once and named as in the headers they come from (the rest
// are in LinuxConstants.cs). The same on x86-64 and arm64.
namespace EpollTools.Core.Native;

/// <summary>Socket domains and types: include/linux/socket.h and include/linux/net.h.</summary>
public static class SocketConstants
{
    public const int AF_UNIX = 1;
    public const byte AF_INET = 2;
    public const byte AF_INET6 = 10;

    /// <summary>IP protocol numbers: include/uapi/linux/in.h.</summary>
    public const byte IPPROTO_TCP = 6;
    public const byte IPPROTO_UDP = 17;

    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_NONBLOCK = OpenFlags.O_NONBLOCK;
    public const int SOCK_CLOEXEC = OpenFlags.O_CLOEXEC;
}

/// <summary>
/// Netlink and its socket-diagnostics family, as ss uses them: include/linux/socket.h (AF_NETLINK),
/// include/uapi/linux/netlink.h, include/uapi/linux/sock_diag.h, include/uapi/linux/unix_diag.h, and the
/// sk_state values of include/net/tcp_states.h that unix sockets report.
/// </summary>
public static class SockDiagConstants
{
    public const int AF_NETLINK = 16;

    /// <summary>setns(2)'s namespace type for a network namespace: include/uapi/linux/sched.h.</summary>
    public const int CLONE_NEWNET = 0x40000000;
    public const int NETLINK_SOCK_DIAG = 4;
    public const ushort SOCK_DIAG_BY_FAMILY = 20;

    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;

    /// <summary>struct nlmsghdr, struct unix_diag_req, struct unix_diag_msg, struct rtattr: their sizes.</summary>
    public const int NlMsgHdrSize = 16;
    public const int UnixDiagReqSize = 24;
    public const int UnixDiagMsgSize = 16;
    public const int RtAttrSize = 4;

    public const uint UDIAG_SHOW_NAME = 0x1;
    public const uint UDIAG_SHOW_PEER = 0x4;
    public const uint UDIAG_SHOW_RQLEN = 0x10;

    public const ushort UNIX_DIAG_NAME = 0;
    public const ushort UNIX_DIAG_PEER = 2;
    public const ushort UNIX_DIAG_RQLEN = 4;

    public const byte TCP_ESTABLISHED = 1;
    public const byte TCP_SYN_SENT = 2;
    public const byte TCP_CLOSE = 7;
    public const byte TCP_LISTEN = 10;

    /// <summary>struct inet_diag_req_v2 and struct inet_diag_msg (include/uapi/linux/inet_diag.h): their sizes.</summary>
    public const int InetDiagReqV2Size = 56;
    public const int InetDiagMsgSize = 72;

    /// <summary>The inet_diag_msg fields read, by offset: after family, state, timer, retrans and the 48-byte sockid.</summary>
    public const int InetDiagSourcePort = 4;      // id.idiag_sport, big-endian
    public const int InetDiagDestinationPort = 6; // id.idiag_dport, big-endian
    public const int InetDiagSource = 8;          // id.idiag_src[4], network order
    public const int InetDiagDestination = 24;    // id.idiag_dst[4], network order
    public const int InetDiagReceiveQueue = 56;   // idiag_rqueue
    public const int InetDiagSendQueue = 60;      // idiag_wqueue
    public const int InetDiagInode = 68;          // idiag_inode

    /// <summary>The attribute that carries struct tcp_info, and the idiag_ext bit that asks for it (1 &lt;&lt; (INET_DIAG_INFO - 1)).</summary>
    public const ushort INET_DIAG_INFO = 2;
    public const byte InetDiagInfoExtension = 1 << (INET_DIAG_INFO - 1);
}

/// <summary>
/// struct tcp_info (include/uapi/linux/tcp.h): the offsets of the fields read. The struct has grown over the years; a
/// kernel sends what it has, so a field past the attribute's end is simply not known.
/// </summary>
public static class TcpInfoLayout
{
    public const int Unacked = 24;           // u32 tcpi_unacked: segments sent, not acknowledged
    public const int LastDataSent = 44;      // u32 tcpi_last_data_sent, ms ago
    public const int LastDataReceived = 52;  // u32 tcpi_last_data_recv, ms ago
    public const int Rtt = 68;               // u32 tcpi_rtt, microseconds
    public const int TotalRetransmits = 100; // u32 tcpi_total_retrans: segments
    public const int BytesAcked = 120;       // u64 tcpi_bytes_acked (Linux 4.1)
    public const int BytesReceived = 128;    // u64 tcpi_bytes_received (Linux 4.1)
    public const int BytesSent = 200;        // u64 tcpi_bytes_sent (Linux 4.19)
}
