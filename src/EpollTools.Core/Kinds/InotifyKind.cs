using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>An inotify instance: its watches, one "inotify wd:... ino:... sdev:... mask:..." line each (fs/notify/fdinfo.c).</summary>
public sealed class InotifyKind : AnonInodeKind
{
    private const string LinePrefix = "inotify ";

    protected override string Name => "inotify";

    public override (TargetKind Kind, string Description) Describe(FdTarget target)
        => (TargetKind.Inotify, target.Info is { } info ? $"inotify ({info.InotifyWatches.Count} watches)" : "inotify");

    public override bool TryParseLine(ParsedFdInfo info, string line)
    {
        if (PairsOfLine(line, LinePrefix) is not { } pairs)
        {
            return false;
        }

        info.InotifyWatches.Add(new InotifyWatch(
            FdInfoFields.HexInt(FdInfoFields.Required(pairs, "wd")), FdInfoFields.Hex(FdInfoFields.Required(pairs, "ino")),
            FdInfoFields.Hex32(FdInfoFields.Required(pairs, "sdev")), FdInfoFields.Hex32(FdInfoFields.Required(pairs, "mask")),
            FdInfoFields.Hex32(FdInfoFields.Required(pairs, "ignored_mask"))));
        return true;
    }
}
