using System;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Multiplexers;

namespace EpollTools.Commands;

/// <summary>Wait-Select: one select(2) call on read, write and except sets, interruptible by Ctrl+C.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Select")]
[OutputType(typeof(SelectReadyFd), typeof(SelectResult))]
public sealed class WaitSelectCommand : PSCmdlet, IDisposable
{
    private WaitCanceller? _canceller;

    /// <summary>The read set: fds to watch for reading (numbers or the module's fd objects).</summary>
    [Parameter(Position = 0)]
    [FdArgumentTransformation]
    public FdArgument[] Read { get; set; } = Array.Empty<FdArgument>();

    /// <summary>The write set: fds to watch for writing.</summary>
    [Parameter]
    [FdArgumentTransformation]
    public FdArgument[] Write { get; set; } = Array.Empty<FdArgument>();

    /// <summary>The except set: fds to watch for exceptional conditions (TCP urgent data).</summary>
    [Parameter]
    [FdArgumentTransformation]
    public FdArgument[] Except { get; set; } = Array.Empty<FdArgument>();

    /// <summary>Milliseconds to wait: -1 blocks (select's NULL timeout), 0 polls; a TimeSpan is accepted too.</summary>
    [Parameter]
    [TimeoutTransformation]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    /// <summary>Writes one SelectResult (count, nfds, the sets as returned, the time left) instead of one object per ready fd.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        var closed = Read.Concat(Write).Concat(Except).FirstOrDefault(fd => fd.IsClosed);
        if (closed is not null)
        {
            ThrowTerminatingError(ErrorRecords.ClosedFd(closed));
        }

        if (Timeout != 0)
        {
            _canceller = ErrorRecords.NewCanceller(this);
        }

        SelectResult result;
        try
        {
            result = ClassicWaits.Select(Numbers(Read), Numbers(Write), Numbers(Except), Timeout, _canceller);
        }
        catch (OperationCanceledException)
        {
            return; // Ctrl+C: the engine ends the pipeline
        }
        catch (FdSetSizeExceededException e)
        {
            ThrowTerminatingError(ErrorRecords.Usage("FdSetSizeExceeded", ErrorCategory.LimitsExceeded, e.HighestFd, e.Message,
                "select cannot watch that fd: use Wait-Poll or Wait-Epoll, which have no such limit."));
            return;
        }
        catch (ArgumentOutOfRangeException e)
        {
            ThrowTerminatingError(ErrorRecords.Usage("InvalidFd", ErrorCategory.InvalidArgument, e.ActualValue, e.Message.Split(Environment.NewLine)[0],
                "Pass fds of 0 or more."));
            return;
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, e.Fd));
            return;
        }

        if (PassThru)
        {
            WriteObject(result);
        }
        else
        {
            WriteObject(result.Ready, enumerateCollection: true);
        }
    }

    protected override void StopProcessing() => _canceller?.Cancel();

    public void Dispose() => _canceller?.Dispose();

    private static int[] Numbers(FdArgument[] fds) => fds.Select(fd => fd.Number).ToArray();
}
