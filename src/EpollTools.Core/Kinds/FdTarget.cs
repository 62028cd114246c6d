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
/// asks (each once).
/// </summary>
public sealed class FdTarget
{
    private readonly Func<ParsedFdInfo?> _readInfo;
    private readonly Func<FileStatus?> _readStatus;
    private readonly Func<FdAccess> _readAccess;
    private (bool Read, ParsedFdInfo? Value) _info;
    private (bool Read, FileStatus? Value) _status;

    /// <param name="readInfo">The fd's fdinfo, parsed; null when it cannot be read.</param>
    /// <param name="readStatus">statx of the fd, its link followed; null when it cannot be read.</param>
    /// <param name="readAccess">The fd's access mode (statx of the link itself): which end of a pipe it is.</param>
    public FdTarget(int pid, int fd, string link, IFdNeighbours neighbours, Func<ParsedFdInfo?> readInfo, Func<FileStatus?> readStatus, Func<FdAccess> readAccess)
    {
        Pid = pid;
        Fd = fd;
        Link = link;
        Neighbours = neighbours;
        _readInfo = readInfo;
        _readStatus = readStatus;
        _readAccess = readAccess;
    }

    public int Pid { get; }

    public int Fd { get; }

    /// <summary>The fd's /proc link: "socket:[123]", "anon_inode:[eventfd]", a path.</summary>
    public string Link { get; }

    public IFdNeighbours Neighbours { get; }

    public ParsedFdInfo? Info => _info.Read ? _info.Value : (_info = (true, _readInfo())).Value;

    public FileStatus? Status => _status.Read ? _status.Value : (_status = (true, _readStatus())).Value;

    /// <summary>The fd's access mode, read when asked.</summary>
    public FdAccess Access => _readAccess();

    /// <summary>The inode a socket's or pipe's link names ("socket:[123]" gives 123); 0 for any other link.</summary>
    public ulong LinkInode => FdEntry.ParseLink(Link)?.Inode ?? 0;
}
