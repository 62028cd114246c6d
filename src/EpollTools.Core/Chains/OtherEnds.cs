using System.Collections.Generic;
using System.Linq;
using System.Net;
using EpollTools.Core.Kinds;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;

namespace EpollTools.Core.Chains;

/// <summary>
/// Who holds the other end of an fd a thread waits on: a pipe's or FIFO's writers (its readers, for a wait to write),
/// a unix socket's peer, a loopback TCP connection's other side (the reversed addresses); or why none is followed.
/// </summary>
public sealed class OtherEnds
{
    private readonly TargetResolver _resolver;

    public OtherEnds(TargetResolver resolver) => _resolver = resolver;

    /// <summary>A process's fd on the other end.</summary>
    public sealed record Holder(int Pid, int Fd, string End);

    /// <summary>
    /// The holders, with the link each holder's fd must still show; or why the chain stops at this fd. For a TCP
    /// connection, both sides' addresses ("10.0.0.4:51234"), by which another host finds the other side.
    /// </summary>
    public sealed record Found(IReadOnlyList<Holder> Holders, string? HolderLink, (ChainEnd End, string Detail)? Stop)
    {
        public string? LocalEndPoint { get; init; }

        public string? PeerEndPoint { get; init; }

        /// <summary>What to say when the kernel reports a hang-up on the fd: then nobody holds the other end, whatever could not be read.</summary>
        public string? IfHungUp { get; init; }
    }

    private static Found StopAt(ChainEnd end, string detail) => new(new List<Holder>(), null, (end, detail));

    /// <summary>Processes whose fds could not be read: any of them may hold the other end.</summary>
    private int Unreadable => _resolver.Holders.UnreadableCount;

    /// <summary>The other end of fd <paramref name="fd"/> of <paramref name="pid"/>, whose link is <paramref name="link"/>.</summary>
    /// <param name="forInput">The waiter waits to read (the writers are wanted), or to write (the readers).</param>
    public Found Of(int pid, int fd, string link, bool forInput)
    {
        var parsed = FdEntry.ParseLink(link);
        if (parsed is { Kind: FdLinkKind.Pipe } || (parsed is null && link.StartsWith('/') && FileIdentity.StatFd(pid, fd)?.Type == Native.StatxConstants.S_IFIFO))
        {
            return OfPipe(pid, fd, link, forInput);
        }

        if (parsed is { Kind: FdLinkKind.Socket } socket)
        {
            return OfSocket(pid, socket.Inode, forInput);
        }

        if (AnonInodeKind.HasName(link, "eventfd"))
        {
            return OfEventFd(pid, fd, link, forInput);
        }

        string kind = AnonInodeKind.NameOf(link) ?? "a file";
        return StopAt(ChainEnd.NotFollowed, $"{kind}: no process end to follow");
    }

    private Found OfPipe(int pid, int fd, string link, bool forInput)
    {
        string wanted = forInput ? "write end" : "read end";
        var all = _resolver.PipeHolders(link);
        var holders = all.Where(h => forInput ? h.Writes : h.Reads).Where(h => !(h.Pid == pid && h.Fd == fd))
            .Select(h => new Holder(h.Pid, h.Fd, wanted)).ToList();
        if (holders.Count > 0)
        {
            return new Found(holders, link, null);
        }

        string end = forInput ? "write end" : "read end";
        string gone = forInput ? "nobody holds the write end: the writers exited or closed it" : "nobody holds the read end: the readers exited or closed it";
        return all.Count == 0 && Unreadable == 0
            ? StopAt(ChainEnd.NotFollowed, "opened after this call listed the host's fds: its holders are not known")
            : Unreadable > 0
                ? StopAt(ChainEnd.Unreadable, $"no process whose fds could be read holds the {end}; one of those that could not may: {_resolver.Holders.UnreadableNames}") with { IfHungUp = gone }
                : StopAt(ChainEnd.Gone, gone);
    }

    /// <summary>An eventfd is written by whoever holds it: its other holders (kcmp finds the same file under their fds).</summary>
    private Found OfEventFd(int pid, int fd, string link, bool forInput)
    {
        var holders = _resolver.Holders.HoldersOfSameFile(pid, fd, link).Select(h => new Holder(h.Pid, h.Fd, "eventfd")).ToList();
        if (holders.Count > 0)
        {
            return new Found(holders, link, null);
        }

        if (Unreadable > 0)
        {
            return StopAt(ChainEnd.Unreadable, $"no other process whose fds could be read holds the eventfd; one of those that could not may: {_resolver.Holders.UnreadableNames}");
        }

        return StopAt(ChainEnd.NotFollowed, forInput
            ? "an eventfd no other fd holds: only this process's own threads or signal handlers can write it"
            : "an eventfd no other fd holds: only this process can read it down");
    }

    /// <summary>
    /// Why a connected TCP socket whose other side is no socket of this namespace has no peer to follow, when that is
    /// not "on another host": the peer closed its side (the state says so), or the address is this host's loopback,
    /// where the other side would be found if it were still open. Null when the peer may be on another host.
    /// </summary>
    public static (ChainEnd End, string Detail)? WithoutPeer(SocketEntry socket)
    {
        if (socket.State is "CLOSE_WAIT" or "LAST_ACK" or "CLOSING" or "TIME_WAIT")
        {
            return (ChainEnd.Gone, $"the peer {socket.RemoteAddress}:{socket.RemotePort} closed its side ({socket.State}): nothing more will come");
        }

        return socket.RemoteAddress is IPAddress remote && IPAddress.IsLoopback(remote)
            ? (ChainEnd.Gone, $"no socket of this host has the other side ({remote}:{socket.RemotePort}): its process closed it")
            : null;
    }

    private Found OfSocket(int pid, ulong inode, bool forInput)
    {
        if (_resolver.FindSocket(pid, inode) is not SocketEntry socket)
        {
            return StopAt(ChainEnd.NotFollowed, "a socket not in its network namespace's tables (netlink, packet...)");
        }

        if (socket.State == "LISTEN")
        {
            return StopAt(ChainEnd.NotFollowed, "a listening socket: it waits for clients, which are not followed");
        }

        var found = OfConnectedSocket(pid, socket);
        return socket.RemoteAddress is IPAddress remote && socket.RemotePort is int remotePort && socket.LocalAddress is IPAddress local && socket.LocalPort is int localPort
            ? found with { LocalEndPoint = new IPEndPoint(local, localPort).ToString(), PeerEndPoint = new IPEndPoint(remote, remotePort).ToString() }
            : found;
    }

    private Found OfConnectedSocket(int pid, SocketEntry socket)
    {
        ulong? peer = socket.PeerInode is > 0 ? socket.PeerInode : null;
        string where = string.Empty;
        if (peer is null && socket.RemoteAddress is IPAddress remote && socket.RemotePort is > 0)
        {
            where = $" at {remote}:{socket.RemotePort}";
            if (_resolver.FindConnectedPeer(pid, socket) is not SocketEntry other)
            {
                return WithoutPeer(socket) is { } ended ? StopAt(ended.End, ended.Detail)
                    : StopAt(ChainEnd.OutsideHost, $"the peer {remote}:{socket.RemotePort} is not a socket of this host");
            }

            if (other.Inode == 0)
            {
                // In the table with no inode: no file holds it any more (its fds closed, the kernel finishing it).
                return StopAt(ChainEnd.Gone, $"the peer {remote}:{socket.RemotePort} was closed by its process ({other.State}): nothing more will come");
            }

            peer = other.Inode;
        }

        if (peer is not ulong peerInode)
        {
            // A thread cannot block receiving on a stream that was never connected (ENOTCONN): one with no peer now
            // had one, which closed (the next read returns end of file). A datagram socket needs no peer.
            return socket.Protocol is "UNIX STREAM" or "UNIX SEQPACKET"
                ? StopAt(ChainEnd.Gone, $"{socket.Protocol} whose peer is closed: its process exited or closed it (a read returns end of file, a write EPIPE)")
                : StopAt(ChainEnd.NotFollowed, $"{socket.Protocol} with no peer (not connected)");
        }

        var holders = _resolver.Holders.HoldersOf(peerInode).Select(h => new Holder(h.Pid, h.Fd, "peer socket")).ToList();
        // The peer socket exists (the tables list it with its inode), so a file holds it: a process this /proc does not
        // show (another PID namespace on this network, a container) or cannot read; not one that exited.
        return holders.Count > 0
            ? new Found(holders, $"socket:[{peerInode}]", null)
            : StopAt(ChainEnd.OutsideHost, $"the peer socket:[{peerInode}]{where} is held by no process visible here: one in another PID namespace (a container, or another host sharing this network), or one this user cannot read");
    }
}
