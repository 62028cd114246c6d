using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Set-FdOption: sets or clears O_NONBLOCK on module fds (fcntl F_SETFL).</summary>
[Cmdlet(VerbsCommon.Set, "FdOption", SupportsShouldProcess = true)]
[OutputType(typeof(LinuxFd))]
public sealed class SetFdOptionCommand : PSCmdlet
{
    /// <summary>The fds to change.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [ValidateNotNull]
    public LinuxFd[] Fd { get; set; } = Array.Empty<LinuxFd>();

    /// <summary>$true: reads and writes that cannot proceed fail with EAGAIN; $false: they wait.</summary>
    [Parameter(Mandatory = true)]
    public bool NonBlocking { get; set; }

    /// <summary>Emit each fd afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var fd in Fd)
        {
            if (!ShouldProcess($"fd {fd.Fd}", NonBlocking ? "Set O_NONBLOCK" : "Clear O_NONBLOCK"))
            {
                continue;
            }

            try
            {
                fd.SetNonBlocking(NonBlocking);
                if (PassThru)
                {
                    WriteObject(fd);
                }
            }
            catch (Exception e) when (e is LinuxErrorException or ObjectDisposedException)
            {
                WriteError(ErrorRecords.ForException(e, fd));
            }
        }
    }
}
