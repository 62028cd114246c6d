using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Close-Fd: closes fds opened by New-EventFd, New-TimerFd, New-Pipe and New-SocketPair.</summary>
[Cmdlet(VerbsCommon.Close, "Fd", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class CloseFdCommand : PSCmdlet
{
    /// <summary>The fds to close; a pipe or socket pair closes both its ends.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [ValidateNotNull]
    public object[] Fd { get; set; } = Array.Empty<object>();

    protected override void ProcessRecord()
    {
        foreach (var item in Fd)
        {
            object value = item is PSObject ps ? ps.BaseObject : item;
            switch (value)
            {
                case LinuxFd fd:
                    Close(fd, $"fd {fd.Fd} ({fd.Kind})");
                    break;
                case Pipe pipe:
                    Close(pipe, pipe.ToString());
                    break;
                case SocketPair pair:
                    Close(pair, pair.ToString());
                    break;
                default:
                    WriteError(ErrorRecords.Usage("NotAModuleFd", ErrorCategory.InvalidArgument, value,
                        $"Close-Fd closes only fds this module opened; got a {value.GetType().Name}.",
                        "Pass objects from New-EventFd, New-TimerFd, New-Pipe or New-SocketPair; close epoll instances with Close-EpollInstance."));
                    break;
            }
        }
    }

    private void Close(IDisposable owner, string description)
    {
        if (ShouldProcess(description, "Close"))
        {
            owner.Dispose();
            SessionResources.ForgetClosed();
        }
    }
}
