using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Wait-Epoll: epoll_wait, interruptible by Ctrl+C.</summary>
[Cmdlet(VerbsLifecycle.Wait, "Epoll")]
[OutputType(typeof(EpollEvent))]
public sealed class WaitEpollCommand : CancellableCommandBase
{
    /// <summary>The epoll instance to wait on.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [ValidateNotNull]
    public EpollInstance Instance { get; set; } = null!;

    /// <summary>Milliseconds to wait: -1 forever, 0 not at all; a TimeSpan is accepted too.</summary>
    [Parameter]
    [TimeoutTransformation]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    /// <summary>The most events to return from one wait.</summary>
    [Parameter]
    [ValidateRange(1, 1 << 24)]
    public int MaxEvents { get; set; } = 64;

    protected override void BeginProcessing()
    {
        // Only a wait that can block needs a way to be stopped; -Timeout 0 stays one epoll_wait call.
        if (Timeout != 0)
        {
            StartCanceller();
        }
    }

    protected override void ProcessRecord()
    {
        try
        {
            foreach (var ev in Instance.Wait(MaxEvents, Timeout, Canceller))
            {
                WriteObject(ev);
            }
        }
        catch (OperationCanceledException)
        {
            // StopProcessing: the engine ends the pipeline; nothing to report.
        }
        catch (Exception e) when (e is LinuxErrorException or ObjectDisposedException)
        {
            WriteError(ErrorRecords.ForException(e, Instance));
        }
    }

}
