using System;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>
/// A file with a path that is no FIFO (<see cref="PipeKind"/> takes those): a regular file or a directory by its path,
/// a device with its major:minor ("/dev/null (char 1:3)"), by the type statx gives.
/// </summary>
public sealed class PathFileKind : IFdKind
{
    /// <summary>Every link the kinds before it leave (it is last): a path, or a file of a pseudo filesystem ("net:[4026531840]"), by its type.</summary>
    public bool Claims(FdTarget target) => true;

    public (TargetKind Kind, string Description) Describe(FdTarget target)
    {
        var status = target.Status;
        return status?.Type switch
        {
            StatxConstants.S_IFREG => (TargetKind.RegularFile, target.Link),
            StatxConstants.S_IFDIR => (TargetKind.Directory, target.Link),
            StatxConstants.S_IFCHR => (TargetKind.CharDevice, $"{target.Link} (char {status.Value.RdevMajor}:{status.Value.RdevMinor})"),
            StatxConstants.S_IFBLK => (TargetKind.BlockDevice, $"{target.Link} (block {status.Value.RdevMajor}:{status.Value.RdevMinor})"),
            _ => (TargetKind.Unknown, target.Link),
        };
    }
}
