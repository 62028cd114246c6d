using System.Globalization;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>An eventfd: its counter, id and semaphore mode (fs/eventfd.c eventfd_show_fdinfo; id and semaphore since 6.x).</summary>
public sealed class EventFdKind : AnonInodeKind
{
    private static readonly EventFdFields None = new(0, null, null);

    protected override string Name => "eventfd";

    public override (TargetKind Kind, string Description) Describe(FdTarget target)
        => (TargetKind.EventFd, target.Info?.EventFd is { } e
            ? $"eventfd count={e.Count}{(e.Id is int id ? $" id={id}" : string.Empty)}{(e.Semaphore == true ? " semaphore" : string.Empty)}"
            : "eventfd");

    public override bool TryParseField(ParsedFdInfo info, string key, string value)
    {
        switch (key)
        {
            case "eventfd-count":
                info.EventFd = (info.EventFd ?? None) with { Count = FdInfoFields.Hex(value) };
                return true;
            case "eventfd-id":
                info.EventFd = (info.EventFd ?? None) with { Id = int.Parse(value, CultureInfo.InvariantCulture) };
                return true;
            case "eventfd-semaphore":
                info.EventFd = (info.EventFd ?? None) with { Semaphore = value != "0" };
                return true;
            default:
                return false;
        }
    }
}
