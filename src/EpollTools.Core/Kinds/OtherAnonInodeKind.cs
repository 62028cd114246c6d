using System;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>Any other anonymous inode (io_uring, userfaultfd, perf_event, bpf-map...): its link is all that is said.</summary>
public sealed class OtherAnonInodeKind : IFdKind
{
    public bool Claims(FdTarget target) => target.Link.StartsWith("anon_inode:", StringComparison.Ordinal);

    public (TargetKind Kind, string Description) Describe(FdTarget target) => (TargetKind.AnonInode, target.Link);
}
