using System;
using System.Linq;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Kinds;

/// <summary>
/// An anonymous pipe ("pipe:[inode]") or a FIFO (a file whose type is S_IFIFO: it has a path): which end this fd is, and who holds
/// the other end ("writers: 42 nginx fd 7"), or that nobody does.
/// </summary>
public sealed class PipeKind : IFdKind
{
    /// <summary>Holders of the other end named before "+N more".</summary>
    private const int HoldersShown = 8;

    public bool Claims(FdTarget target) => FdEntry.ParseLink(target.Link) is { } parsed
        ? parsed.Kind == FdLinkKind.Pipe
        : !target.Link.StartsWith("anon_inode:", StringComparison.Ordinal) && target.Status?.Type == StatxConstants.S_IFIFO;

    public (TargetKind Kind, string Description) Describe(FdTarget target)
    {
        var kind = FdEntry.ParseLink(target.Link) is null ? TargetKind.Fifo : TargetKind.Pipe;

        // Which end this fd is: the host's listing has already looked (a statx of the link: its mode is the fd's access).
        var ends = target.Neighbours.PipeHolders(target.Link);
        var self = ends.FirstOrDefault(h => h.Pid == target.Pid && h.Fd == target.Fd);
        var access = self is null ? target.Access : (self.Reads ? FdAccess.Read : FdAccess.None) | (self.Writes ? FdAccess.Write : FdAccess.None);
        bool reads = access.HasFlag(FdAccess.Read), writes = access.HasFlag(FdAccess.Write);

        var others = ends.Where(h => !(h.Pid == target.Pid && h.Fd == target.Fd) && (reads ? h.Writes : h.Reads)).ToList();
        string end = reads && !writes ? "read end" : writes && !reads ? "write end" : "both ends";
        string otherEnd = reads ? "writers" : "readers";
        string holders = others.Count > 0 ? string.Join(", ", others.Take(HoldersShown)) + (others.Count > HoldersShown ? $", +{others.Count - HoldersShown} more" : string.Empty)
            // Not even this fd was in the listing: the pipe is newer than it, and "none" would be a guess.
            : ends.Count == 0 ? "not known (opened after this call listed the host's fds)"
            : "none";
        return (kind, $"{target.Link} {end}; {otherEnd}: {holders}");
    }
}
