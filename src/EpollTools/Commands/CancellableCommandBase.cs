using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>
/// A cmdlet whose call may block (Wait-Epoll, Read-Fd, Write-Fd, Wait-Select, Wait-Poll): it holds the
/// <see cref="WaitCanceller"/> its blocking call polls beside its fds, signals it on Ctrl+C, and closes it with the
/// cmdlet.
/// </summary>
public abstract class CancellableCommandBase : PSCmdlet, IDisposable
{
    /// <summary>The canceller of this call once <see cref="StartCanceller"/> made it; null for a call that cannot block.</summary>
    protected WaitCanceller? Canceller { get; private set; }

    /// <summary>
    /// Makes the canceller. It needs an fd: at the fd limit that fails, and the whole call is pointless, so the call
    /// ends with the TooManyOpenFiles record.
    /// </summary>
    protected void StartCanceller()
    {
        try
        {
            Canceller ??= new WaitCanceller();
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null));
        }
    }

    protected override void StopProcessing() => Canceller?.Cancel();

    public void Dispose()
    {
        Canceller?.Dispose();
        GC.SuppressFinalize(this);
    }
}
