using System;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core.Multiplexers;

namespace EpollTools.Commands;

/// <summary>Wait-Select: one select(2) call on read, write and except sets, interruptible by Ctrl+C.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Select")]
[OutputType(typeof(SelectReadyFd), typeof(SelectResult))]
public sealed class WaitSelectCommand : SingleWaitCommandBase
{
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

    protected override void EndProcessing() => WaitOnce(Read.Concat(Write).Concat(Except).ToList(), Select, result => result.Ready);

    private SelectResult Select(Core.WaitCanceller? canceller, Core.FdHolds holds)
    {
        try
        {
            return ClassicWaits.Select(Numbers(Read), Numbers(Write), Numbers(Except), Timeout, canceller, holds);
        }
        catch (FdSetSizeExceededException e)
        {
            ThrowTerminatingError(ErrorRecords.Usage("FdSetSizeExceeded", ErrorCategory.LimitsExceeded, e.HighestFd, e.Message,
                "select cannot watch that fd: use Wait-Poll or Wait-Epoll, which have no such limit."));
            throw; // not reached: ThrowTerminatingError throws
        }
    }

    private static int[] Numbers(FdArgument[] fds) => fds.Select(fd => fd.Number).ToArray();
}
