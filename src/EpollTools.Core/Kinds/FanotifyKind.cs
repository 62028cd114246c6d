using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>
/// A fanotify group: its flags line and its marks on inodes, mounts or filesystems, one "fanotify ..." line each
/// (fs/notify/fdinfo.c).
/// </summary>
public sealed class FanotifyKind : AnonInodeKind
{
    private const string LinePrefix = "fanotify ";

    protected override string Name => "fanotify";

    public override (TargetKind Kind, string Description) Describe(FdTarget target)
        => (TargetKind.Fanotify, target.Info is { } info ? $"fanotify ({info.FanotifyMarks.Count} marks)" : "fanotify");

    public override bool TryParseLine(ParsedFdInfo info, string line)
    {
        if (PairsOfLine(line, LinePrefix) is not { } pairs)
        {
            return false;
        }

        if (pairs.TryGetValue("flags", out var flags))
        {
            info.FanotifyFlags = FdInfoFields.Hex32(flags);
            info.FanotifyEventFlags = FdInfoFields.Hex32(FdInfoFields.Required(pairs, "event-flags"));
            return true;
        }

        info.FanotifyMarks.Add(new FanotifyMark(
            pairs.TryGetValue("ino", out var ino) ? FdInfoFields.Hex(ino) : null,
            pairs.TryGetValue("sdev", out var sdev) ? FdInfoFields.Hex32(sdev) : null,
            pairs.TryGetValue("mnt_id", out var mnt) ? FdInfoFields.HexInt(mnt) : null,
            FdInfoFields.Hex32(FdInfoFields.Required(pairs, "mflags")), FdInfoFields.Hex32(FdInfoFields.Required(pairs, "mask")),
            FdInfoFields.Hex32(FdInfoFields.Required(pairs, "ignored_mask"))));
        return true;
    }
}
