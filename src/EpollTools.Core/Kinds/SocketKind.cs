using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Kinds;

/// <summary>
/// A socket ("socket:[inode]"), described from its network namespace's tables: "TCP 127.0.0.1:80 LISTEN", a
/// connection's addresses, state and queues, a unix socket's path and the process that holds its peer.
/// </summary>
public sealed class SocketKind : IFdKind
{
    public bool Claims(FdTarget target) => FdEntry.ParseLink(target.Link) is { Kind: FdLinkKind.Socket };

    public (TargetKind Kind, string Description) Describe(FdTarget target)
    {
        if (target.Neighbours.FindSocket(target.Pid, target.LinkInode) is not SocketEntry entry)
        {
            return (TargetKind.Socket, $"{target.Link} (not in /proc/{target.Pid}/net: netlink, packet or another family)");
        }

        // A connected unix socket's other end, named by who holds it (as ss -xp and lsfd's UNIX.IPEER do).
        return (TargetKind.Socket, entry.PeerInode is ulong peer && peer != 0 && target.Neighbours.SocketHolderOf(peer) is string holder
            ? (entry with { PeerHolder = holder }).ToString()
            : entry.ToString());
    }
}
