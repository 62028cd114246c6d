using System;
using System.Collections.Generic;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Kinds;

/// <summary>One process's fd on a pipe or FIFO.</summary>
public sealed record PipeHolder(int Pid, string Name, int Fd, bool Reads, bool Writes)
{
    public override string ToString() => $"{Pid} {Name} fd {Fd}";
}

/// <summary>
/// What a kind may ask of the host beyond the fd itself: the sockets of a network namespace, who holds a socket or a
/// pipe, process names. A scan's <see cref="Targets.TargetResolver"/> answers (reading each once); unit tests give
/// captured answers.
/// </summary>
public interface IFdNeighbours
{
    /// <summary>The socket with <paramref name="inode"/> in the network namespace of <paramref name="pid"/>; null if none is known.</summary>
    SocketEntry? FindSocket(int pid, ulong inode);

    /// <summary>"1234:7 (nginx)": a process that holds the socket with <paramref name="inode"/>; null if none is found.</summary>
    string? SocketHolderOf(ulong inode);

    /// <summary>The fds on the pipe or FIFO <paramref name="link"/> names, each with its end; empty when the pipe is newer than the listing.</summary>
    IReadOnlyList<PipeHolder> PipeHolders(string link);

    /// <summary>The name (comm) of <paramref name="pid"/>; "?" if it cannot be read.</summary>
    string NameOf(int pid);
}

/// <summary>
/// What a kind is given to describe one fd: the fd and its link, and its fdinfo and statx read only when the kind
/// asks (each once). A scan's resolver reads them from /proc; <see cref="Given"/> takes captured answers.
/// </summary>
public abstract class FdTarget
{
    private (bool Read, ParsedFdInfo? Value) _info;
    private (bool Read, FileStatus? Value) _status;

    protected FdTarget(int pid, int fd, string link, IFdNeighbours neighbours)
    {
        Pid = pid;
        Fd = fd;
        Link = link;
        Neighbours = neighbours;
    }

    public int Pid { get; }

    public int Fd { get; }

    /// <summary>The fd's /proc link: "socket:[123]", "anon_inode:[eventfd]", a path.</summary>
    public string Link { get; }

    public IFdNeighbours Neighbours { get; }

    /// <summary>The fd's fdinfo, parsed; null when it cannot be read.</summary>
    public ParsedFdInfo? Info => _info.Read ? _info.Value : (_info = (true, ReadInfo())).Value;

    /// <summary>statx of the fd, its link followed; null when it cannot be read.</summary>
    public FileStatus? Status => _status.Read ? _status.Value : (_status = (true, ReadStatus())).Value;

    /// <summary>The fd's access mode (statx of the link itself): which end of a pipe it is.</summary>
    public FdAccess Access => ReadAccess();

    /// <summary>The inode a socket's or pipe's link names ("socket:[123]" gives 123); 0 for any other link.</summary>
    public ulong LinkInode => FdEntry.ParseLink(Link)?.Inode ?? 0;

    /// <summary>A target whose reads are the answers given (captured ones, in tests).</summary>
    public static FdTarget Given(int pid, int fd, string link, IFdNeighbours neighbours, Func<ParsedFdInfo?> info, Func<FileStatus?> status, Func<FdAccess> access)
        => new GivenTarget(pid, fd, link, neighbours, info, status, access);

    protected abstract ParsedFdInfo? ReadInfo();

    protected abstract FileStatus? ReadStatus();

    protected abstract FdAccess ReadAccess();

    private sealed class GivenTarget : FdTarget
    {
        private readonly Func<ParsedFdInfo?> _giveInfo;
        private readonly Func<FileStatus?> _giveStatus;
        private readonly Func<FdAccess> _giveAccess;

        public GivenTarget(int pid, int fd, string link, IFdNeighbours neighbours, Func<ParsedFdInfo?> info, Func<FileStatus?> status, Func<FdAccess> access)
            : base(pid, fd, link, neighbours)
        {
            _giveInfo = info;
            _giveStatus = status;
            _giveAccess = access;
        }

        protected override ParsedFdInfo? ReadInfo() => _giveInfo();

        protected override FileStatus? ReadStatus() => _giveStatus();

        protected override FdAccess ReadAccess() => _giveAccess();
    }
}
