using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>A signalfd: the signals it takes (fs/signalfd.c signalfd_show_fdinfo, "sigmask").</summary>
public sealed class SignalFdKind : AnonInodeKind
{
    protected override string Name => "signalfd";

    public override (TargetKind Kind, string Description) Describe(FdTarget target)
        => (TargetKind.SignalFd, target.Info?.SignalMask is ulong mask ? $"signalfd {FlagNames.DecodeSignals(mask)}" : "signalfd");

    public override bool TryParseField(ParsedFdInfo info, string key, string value)
    {
        if (key != "sigmask")
        {
            return false;
        }

        info.SignalMask = FdInfoFields.Hex(value);
        return true;
    }
}
