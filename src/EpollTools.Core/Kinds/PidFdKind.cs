using System;
using System.Globalization;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>A pidfd: the process it names, or that it exited (kernel/fork.c pidfd_show_fdinfo: "Pid", "NSpid"; -1 once reaped).</summary>
public sealed class PidFdKind : AnonInodeKind
{
    protected override string Name => "pidfd";

    public override (TargetKind Kind, string Description) Describe(FdTarget target)
        => (TargetKind.PidFd, target.Info?.PidFdPid is int pid
            ? pid < 0 ? "pidfd (process exited)" : $"pidfd of {pid} {target.Neighbours.NameOf(pid)}"
            : "pidfd");

    public override bool TryParseField(ParsedFdInfo info, string key, string value)
    {
        switch (key)
        {
            case "Pid":
                info.PidFdPid = int.Parse(value, CultureInfo.InvariantCulture);
                return true;
            case "NSpid":
                info.PidFdNsPids = Array.ConvertAll(value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), s => int.Parse(s, CultureInfo.InvariantCulture));
                return true;
            default:
                return false;
        }
    }
}
