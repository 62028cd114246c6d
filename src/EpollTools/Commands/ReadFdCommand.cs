using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Read-Fd: one read(2) from a module fd; EAGAIN on an empty non-blocking fd is reported as an error.</summary>
[Cmdlet(VerbsCommunications.Read, "Fd")]
[OutputType(typeof(FdReadResult))]
public sealed class ReadFdCommand : CancellableCommandBase
{
    // Made in BeginProcessing, where a failure (the fd limit) becomes a proper error rather than a constructor's.
    /// <summary>The fd to read: an object from New-EventFd, New-TimerFd, New-Pipe (its read end) or New-SocketPair.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [PipeEndTransformation(forWriting: false)]
    [ValidateNotNull]
    public LinuxFd Fd { get; set; } = null!;

    /// <summary>The most bytes to read (ignored for eventfd and timerfd, whose reads are 8-byte counters).</summary>
    [Parameter(Position = 1)]
    [ValidateRange(1, 16 * 1024 * 1024)]
    public int Count { get; set; } = 65536;

    protected override void BeginProcessing() => StartCanceller();

    protected override void ProcessRecord()
    {
        try
        {
            WriteObject(Fd switch
            {
                EventFd eventFd => new FdReadResult(Fd, Array.Empty<byte>(), eventFd.ReadValue(Canceller)),
                TimerFd timerFd => new FdReadResult(Fd, Array.Empty<byte>(), timerFd.ReadExpirations(Canceller)),
                _ => new FdReadResult(Fd, Fd.Read(Count, Canceller), null),
            });
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the engine stops the pipeline.
        }
        catch (Exception e) when (e is LinuxErrorException or ObjectDisposedException or FdAccessModeException)
        {
            WriteError(ErrorRecords.ForException(e, Fd));
        }
    }

}
