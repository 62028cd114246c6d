using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>
/// What Wait-Select and Wait-Poll share: -Timeout in the module's convention, -PassThru for the whole result, and one
/// call made with a canceller when it may block, so that Ctrl+C ends it at once.
/// </summary>
public abstract class SingleWaitCommandBase : CancellableCommandBase
{
    /// <summary>Milliseconds to wait: -1 blocks, 0 returns at once; a TimeSpan is accepted too.</summary>
    [Parameter]
    [TimeoutTransformation]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    /// <summary>Writes the call's whole result as one object instead of its items.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// Makes <paramref name="call"/> once on <paramref name="fds"/> (refused if one's owner was closed), with the fds'
    /// owners held for the call (<see cref="FdHolds"/>: a close from another runspace wakes it and is an error, never
    /// a result about a number that may belong to another file by then), and writes its result with -PassThru, else
    /// the result's <paramref name="items"/>. Ctrl+C ends the call with nothing written; a system call's failure ends
    /// the command with its ErrorRecord.
    /// </summary>
    protected void WaitOnce<TResult>(IReadOnlyCollection<FdArgument> fds, Func<WaitCanceller?, FdHolds, TResult> call, Func<TResult, IEnumerable> items)
    {
        var closed = fds.FirstOrDefault(fd => fd.IsClosed);
        if (closed is not null)
        {
            ThrowTerminatingError(ErrorRecords.ClosedFd(closed));
        }

        if (Timeout != 0)
        {
            StartCanceller();
        }

        TResult result;
        FdHolds holds;
        try
        {
            holds = FdHolds.Take(fds.Select(fd => (fd.HeldBy, fd.Number)), wakeOnClose: Timeout != 0);
        }
        catch (ObjectDisposedException)
        {
            ThrowTerminatingError(ErrorRecords.ClosedFd(fds.First(fd => fd.IsClosed))); // closed since the check above
            return;
        }

        using (holds)
        {
            try
            {
                result = call(Canceller, holds);
            }
            catch (OperationCanceledException)
            {
                return; // Ctrl+C: the engine ends the pipeline
            }
            catch (LinuxErrorException e)
            {
                ThrowTerminatingError(ErrorRecords.ForException(e, e.Fd));
                return;
            }
            catch (ObjectDisposedException e)
            {
                ThrowTerminatingError(ErrorRecords.ForException(e, fds.FirstOrDefault(fd => fd.IsClosed)?.Owner));
                return;
            }
        }

        if (PassThru)
        {
            WriteObject(result);
        }
        else
        {
            WriteObject(items(result), enumerateCollection: true);
        }
    }
}
