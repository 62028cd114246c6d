using System.Collections.Generic;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>
/// Every fd kind the module knows, in the order they are asked (the first that claims a link describes it). A new
/// kind is a class in this folder and one line here.
/// </summary>
public static class FdKinds
{
    public static IReadOnlyList<IFdKind> All { get; } = new IFdKind[]
    {
        new SocketKind(),
        new PipeKind(),
        new EventFdKind(),
        new TimerFdKind(),
        new SignalFdKind(),
        new EpollKind(),
        new InotifyKind(),
        new FanotifyKind(),
        new PidFdKind(),
        new OtherAnonInodeKind(),
        new PathFileKind(),
    };

    /// <summary>The kind that claims <paramref name="target"/>'s link; null for a link none claims.</summary>
    public static IFdKind? Of(FdTarget target)
    {
        foreach (var kind in All)
        {
            if (kind.Claims(target))
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>What <paramref name="target"/> is, by the kind that claims its link; its link alone, Unknown, if none does.</summary>
    public static (TargetKind Kind, string Description) Describe(FdTarget target)
        => Of(target)?.Describe(target) ?? (TargetKind.Unknown, target.Link);
}
