using EpollTools.Core.Kinds;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Targets;

/// <summary>An fd of a process on this host, its fdinfo read through the request's open directories where given.</summary>
internal sealed class ProcFdTarget : FdTarget
{
    private readonly FdDirectories? _directories;

    public ProcFdTarget(int pid, int fd, string link, IFdNeighbours neighbours, FdDirectories? directories)
        : base(pid, fd, link, neighbours) => _directories = directories;

    protected override ParsedFdInfo? ReadInfo()
        => (_directories is null ? FdFiles.ReadInfo(Pid, Fd) : _directories.ReadFdInfo(Pid, Fd)) is { } text ? FdInfoParser.Parse(text) : null;

    protected override FileStatus? ReadStatus() => FileIdentity.StatFd(Pid, Fd);

    protected override FdAccess ReadAccess() => FdEntry.AccessOf(FileIdentity.StatFd(Pid, Fd, link: true)?.Mode ?? 0);
}
