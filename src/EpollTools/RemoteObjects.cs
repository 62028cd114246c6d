using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Proc;

namespace EpollTools;

/// <summary>
/// The module's own objects back from another host: remoting brings them as property bags (Deserialized.*), enums as
/// their names and lists as lists; these read them into the types again, property by property.
/// </summary>
internal static class RemoteObjects
{
    public static ConnectionHolder Holder(PSObject item) => new()
    {
        ComputerName = Text(item, nameof(ConnectionHolder.ComputerName)) ?? string.Empty,
        ProcessId = Int(item, nameof(ConnectionHolder.ProcessId)) ?? 0,
        ProcessName = Text(item, nameof(ConnectionHolder.ProcessName)) ?? string.Empty,
        Fd = Int(item, nameof(ConnectionHolder.Fd)) ?? -1,
        End = End(item, nameof(ConnectionHolder.End)),
        Detail = Text(item, nameof(ConnectionHolder.Detail)) ?? string.Empty,
    };

    public static WaitChainLink Link(PSObject item) => new()
    {
        Depth = Int(item, nameof(WaitChainLink.Depth)) ?? 0,
        ComputerName = Text(item, nameof(WaitChainLink.ComputerName)) ?? string.Empty,
        ProcessId = Int(item, nameof(WaitChainLink.ProcessId)) ?? 0,
        ProcessName = Text(item, nameof(WaitChainLink.ProcessName)) ?? string.Empty,
        ThreadId = Int(item, nameof(WaitChainLink.ThreadId)) ?? 0,
        ThreadName = Text(item, nameof(WaitChainLink.ThreadName)) ?? string.Empty,
        Call = Text(item, nameof(WaitChainLink.Call)) ?? string.Empty,
        Fd = Int(item, nameof(WaitChainLink.Fd)) ?? -1,
        Waits = Text(item, nameof(WaitChainLink.Waits)) ?? string.Empty,
        OnlyWait = item.Properties[nameof(WaitChainLink.OnlyWait)]?.Value is bool only && only,
        Target = Text(item, nameof(WaitChainLink.Target)) ?? string.Empty,
        LocalEndPoint = Text(item, nameof(WaitChainLink.LocalEndPoint)),
        PeerEndPoint = Text(item, nameof(WaitChainLink.PeerEndPoint)),
        HolderProcessId = Int(item, nameof(WaitChainLink.HolderProcessId)),
        HolderComputerName = Text(item, nameof(WaitChainLink.HolderComputerName)),
        HolderName = Text(item, nameof(WaitChainLink.HolderName)),
        HolderFd = Int(item, nameof(WaitChainLink.HolderFd)),
        HolderEnd = Text(item, nameof(WaitChainLink.HolderEnd)),
        End = End(item, nameof(WaitChainLink.End)),
        Detail = Text(item, nameof(WaitChainLink.Detail)) ?? string.Empty,
        CycleProcessIds = List(item, nameof(WaitChainLink.CycleProcessIds))?.Select(Convert.ToInt32).ToArray(),
        CycleMembers = List(item, nameof(WaitChainLink.CycleMembers))?.Select(o => o.ToString() ?? string.Empty).ToArray(),
        CycleComputerNames = List(item, nameof(WaitChainLink.CycleComputerNames))?.Select(o => o.ToString() ?? string.Empty).ToArray(),
    };

    private static object? Value(PSObject item, string name) => item.Properties[name]?.Value is { } value
        ? value is PSObject wrapped ? wrapped.BaseObject : value
        : null;

    private static string? Text(PSObject item, string name) => Value(item, name)?.ToString();

    private static int? Int(PSObject item, string name) => Value(item, name) is { } value ? Convert.ToInt32(value) : null;

    private static ChainEnd End(PSObject item, string name)
        => Enum.TryParse<ChainEnd>(Text(item, name), out var end) ? end : ChainEnd.Unreadable;

    private static object[]? List(PSObject item, string name) => Value(item, name) switch
    {
        null => null,
        string text => text.Split("; "),
        IEnumerable items => items.Cast<object>().Select(o => o is PSObject p ? p.BaseObject : o).ToArray(),
        var one => new[] { one },
    };
}
