using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>New-EpollInstance: epoll_create1.</summary>
[Cmdlet(VerbsCommon.New, "EpollInstance")]
[OutputType(typeof(EpollInstance))]
public sealed class NewEpollInstanceCommand : PSCmdlet
{
    /// <summary>Leave EPOLL_CLOEXEC off, so that programs this process starts inherit the epoll fd.</summary>
    [Parameter]
    public SwitchParameter Inheritable { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            WriteObject(SessionResources.Track(EpollInstance.Create(closeOnExec: !Inheritable)));
        }
        catch (Exception e) when (e is LinuxErrorException)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null));
        }
    }
}
