using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Multiplexers;

namespace EpollTools.Commands;

/// <summary>Wait-Poll: one poll(2) call on an array of fds and requested events, interruptible by Ctrl+C.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Poll")]
[OutputType(typeof(PollEntryResult), typeof(PollResult))]
public sealed class WaitPollCommand : SingleWaitCommandBase
{
    // The entries in the order given (one pollfd each), and the objects that own their fds, kept alive until the call.
    private readonly List<(FdArgument Fd, EpollEvents Events)> _entries = new();

    /// <summary>
    /// The fds: numbers (a negative one is an entry the kernel ignores) or the module's fd objects. Objects with Fd
    /// and Events properties (Get-MultiplexerWait's Fds, for one) bind from the pipeline, one entry each.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [PollFdTransformation]
    public FdArgument[] Fd { get; set; } = Array.Empty<FdArgument>();

    /// <summary>The events to ask for, for each fd given with it: In, Pri, Out, RdHup... or "IN|OUT". Default In.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [EpollEventsTransformation]
    public new EpollEvents Events { get; set; } = EpollEvents.In;

    protected override void ProcessRecord()
    {
        foreach (var fd in Fd)
        {
            _entries.Add((fd, Events));
        }
    }

    protected override void EndProcessing() => WaitOnce(_entries.Select(e => e.Fd).ToList(), Poll, result => result.Entries);

    private PollResult Poll(WaitCanceller? canceller, FdHolds holds)
    {
        try
        {
            return ClassicWaits.Poll(_entries.Select(e => (e.Fd.Number, e.Events)).ToList(), Timeout, canceller, holds);
        }
        catch (ArgumentOutOfRangeException e)
        {
            ThrowTerminatingError(ErrorRecords.Usage("NotAPollEvent", ErrorCategory.InvalidArgument, e.ActualValue, e.Message.Split(Environment.NewLine)[0],
                "Ask poll for In, Pri, Out, RdHup (and RdNorm, RdBand, WrNorm, WrBand); ET, OneShot, Exclusive and Wakeup belong to epoll."));
            throw; // not reached: ThrowTerminatingError throws
        }
    }
}
