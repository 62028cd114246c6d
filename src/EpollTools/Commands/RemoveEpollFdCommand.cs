using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Remove-EpollFd: EPOLL_CTL_DEL for each fd.</summary>
[Cmdlet(VerbsCommon.Remove, "EpollFd", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByInstanceSet)]
[OutputType(typeof(EpollInstance))]
public sealed class RemoveEpollFdCommand : EpollControlCommandBase
{
    internal override string OperationName => "EPOLL_CTL_DEL";

    internal override void Apply(FdArgument fd) => Instance.Remove(fd.Number);
}
