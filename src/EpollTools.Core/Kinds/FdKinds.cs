using System;
using System.Collections.Generic;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

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

    /// <summary>The kind that claims <paramref name="link"/>; null for a link none claims ("net:[4026531840]", say).</summary>
    public static IFdKind? Of(string link, Func<FileStatus?> status)
    {
        foreach (var kind in All)
        {
            if (kind.Claims(link, status))
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>What <paramref name="target"/> is, by the kind that claims its link; its link alone, Unknown, if none does.</summary>
    public static (TargetKind Kind, string Description) Describe(FdTarget target)
        => Of(target.Link, () => target.Status)?.Describe(target) ?? (TargetKind.Unknown, target.Link);
}
