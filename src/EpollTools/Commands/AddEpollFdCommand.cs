using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Add-EpollFd: EPOLL_CTL_ADD for each fd.</summary>
[Cmdlet(VerbsCommon.Add, "EpollFd", DefaultParameterSetName = ByInstanceSet)]
[OutputType(typeof(EpollInstance))]
public sealed class AddEpollFdCommand : EpollControlCommandBase
{
    /// <summary>The events to watch; the kernel always adds Err and Hup.</summary>
    [Parameter(Position = 1, ParameterSetName = FromPipelineSet)]
    [Parameter(Position = 2, ParameterSetName = ByInstanceSet)]
    [EpollEventsTransformation]
    public new EpollEvents Events { get; set; } = EpollEvents.In;

    /// <summary>The 64-bit user data returned with each event; by default the fd number.</summary>
    [Parameter]
    public ulong? Data { get; set; }

    internal override string OperationName => "EPOLL_CTL_ADD";

    internal override EpollEvents RequestedEvents => Events;

    internal override void Apply(FdArgument fd) => Instance.Add(fd.Number, Events, Data ?? (ulong)fd.Number);
}
