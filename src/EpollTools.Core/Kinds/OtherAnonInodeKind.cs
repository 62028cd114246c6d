using System;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Kinds;

/// <summary>Any other anonymous inode (io_uring, userfaultfd, perf_event, bpf-map...): its link is all that is said.</summary>
public sealed class OtherAnonInodeKind : IFdKind
{
    public bool Claims(string link, Func<FileStatus?> status) => AnonInodeKind.NameOf(link) is not null;

    public (TargetKind Kind, string Description) Describe(FdTarget target) => (TargetKind.AnonInode, target.Link);
}
