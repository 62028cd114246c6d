using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Set-EpollFd: EPOLL_CTL_MOD for each fd; also re-arms a ONESHOT registration that fired.</summary>
[Cmdlet(VerbsCommon.Set, "EpollFd", SupportsShouldProcess = true, DefaultParameterSetName = ByInstanceSet)]
[OutputType(typeof(EpollInstance))]
public sealed class SetEpollFdCommand : EpollControlCommandBase
{
    /// <summary>The new event mask; it replaces the old one.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = FromPipelineSet)]
    [Parameter(Mandatory = true, Position = 2, ParameterSetName = ByInstanceSet)]
    [EpollEventsTransformation]
    public new EpollEvents Events { get; set; }

    /// <summary>The new user data; by default what it was, or the fd number.</summary>
    [Parameter]
    public ulong? Data { get; set; }

    internal override string OperationName => "EPOLL_CTL_MOD";

    internal override EpollEvents RequestedEvents => Events;

    internal override void Apply(FdArgument fd)
    {
        // EPOLL_CTL_MOD replaces the data too: keep what the registration had unless told otherwise.
        ulong data = Data ?? Instance.FindRegistration(fd.Number)?.Data ?? (ulong)fd.Number;
        Instance.Modify(fd.Number, Events, data);
    }
}
