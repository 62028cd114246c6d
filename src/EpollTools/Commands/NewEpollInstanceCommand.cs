using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>New-EpollInstance: epoll_create1.</summary>
[Cmdlet(VerbsCommon.New, "EpollInstance")]
[OutputType(typeof(EpollInstance))]
public sealed class NewEpollInstanceCommand : FdSourceCommandBase
{
    /// <summary>Leave EPOLL_CLOEXEC off, so that programs this process starts inherit the epoll fd.</summary>
    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    protected override void EndProcessing() => WriteCreated(() => EpollInstance.Create(closeOnExec: !Inheritable));
}
