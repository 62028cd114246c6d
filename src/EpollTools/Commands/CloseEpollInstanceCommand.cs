using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Close-EpollInstance: closes the epoll fd; the kernel drops all its registrations.</summary>
[Cmdlet(VerbsCommon.Close, "EpollInstance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(EpollInstance))]
public sealed class CloseEpollInstanceCommand : PSCmdlet
{
    /// <summary>The instances to close.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [ValidateNotNull]
    public EpollInstance[] Instance { get; set; } = null!;

    /// <summary>Emit each instance after closing it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var instance in Instance)
        {
            if (ShouldProcess($"epoll instance fd {instance.Fd} ({instance.RegistrationCount} registered)", "Close"))
            {
                instance.Dispose();
                SessionResources.ForgetClosed();
                if (PassThru)
                {
                    WriteObject(instance);
                }
            }
        }
    }
}
