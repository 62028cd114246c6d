using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>
/// Shared shape of Add-, Set- and Remove-EpollFd: an instance from the pipeline, a batch of fds, one epoll_ctl
/// per fd, and a non-terminating error for each fd that fails so the rest of the batch is still applied.
/// </summary>
public abstract class EpollControlCommandBase : PSCmdlet
{
    /// <summary>The instance comes from the pipeline ($ep | Add-EpollFd $fd In); the fds are the first positional argument.</summary>
    internal const string FromPipelineSet = "FromPipeline";

    /// <summary>The instance is the first positional argument (Add-EpollFd $ep $fd In), as Wait-Epoll and Close-EpollInstance take it.</summary>
    internal const string ByInstanceSet = "ByInstance";

    /// <summary>The epoll instance to change; also bound from the Instance property of Wait-Epoll's events.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = FromPipelineSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByInstanceSet)]
    [ValidateNotNull]
    public EpollInstance Instance { get; set; } = null!;

    /// <summary>
    /// The fds: numbers or objects that own an fd; also bound from the Fd property of Wait-Epoll's events. (An epoll
    /// instance registered in another is named: -Fd $inner, since by position an instance is the one to change.)
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = FromPipelineSet)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByInstanceSet)]
    [FdArgumentTransformation]
    [ValidateNotNullOrEmpty]
    public FdArgument[] Fd { get; set; } = Array.Empty<FdArgument>();

    /// <summary>Emit the instance afterwards, so calls can be chained.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The epoll_ctl operation's name, for messages.</summary>
    internal abstract string OperationName { get; }

    /// <summary>The event mask this call requests (none for DEL).</summary>
    internal virtual EpollEvents RequestedEvents => EpollEvents.None;

    protected override void ProcessRecord()
    {
        if (Instance.IsClosed)
        {
            WriteError(ErrorRecords.ForException(new EpollInstanceClosedException(Instance.Fd), Instance));
            return;
        }

        foreach (var fd in Fd)
        {
            if (!ShouldProcess($"fd {fd.Number} in epoll instance {Instance.Fd}", OperationName))
            {
                continue;
            }

            if (fd.IsClosed)
            {
                WriteError(ErrorRecords.ClosedFd(fd));
                continue;
            }

            try
            {
                Apply(fd);
            }
            catch (Exception e) when (e is LinuxErrorException or ObjectDisposedException or ArgumentException)
            {
                WriteError(ErrorRecords.ForControl(e, new ErrorRecords.CtlRequest(OperationName, Instance, fd, RequestedEvents)));
            }
            finally
            {
                GC.KeepAlive(fd.Owner);
            }
        }

        if (PassThru)
        {
            WriteObject(Instance);
        }
    }

    /// <summary>Applies the operation to one fd; throws on failure.</summary>
    internal abstract void Apply(FdArgument fd);
}
