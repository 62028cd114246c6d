using System;
using System.Management.Automation;
using System.Text;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Write-Fd: writes bytes to a pipe or socket, or adds to an eventfd counter.</summary>
[Cmdlet(VerbsCommunications.Write, "Fd", DefaultParameterSetName = TextSet)]
[OutputType(typeof(int))]
public sealed class WriteFdCommand : CancellableCommandBase
{
    private const string TextSet = "Text";
    private const string BytesSet = "Bytes";
    private const string CountSet = "Count";
    private const string ValueSet = "Value";
    private const byte FillerByte = (byte)'x';

    // Made in BeginProcessing, where a failure (the fd limit) becomes a proper error rather than a constructor's.
    /// <summary>The fd to write: an object from New-EventFd, New-Pipe (its write end) or New-SocketPair.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [PipeEndTransformation(forWriting: true)]
    [ValidateNotNull]
    public LinuxFd Fd { get; set; } = null!;

    /// <summary>Text to write, as UTF-8.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = TextSet)]
    [AllowEmptyString]
    public string Text { get; set; } = string.Empty;

    /// <summary>Bytes to write.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BytesSet)]
    public byte[] Bytes { get; set; } = Array.Empty<byte>();

    /// <summary>Write this many filler bytes ('x'), e.g. to fill a pipe.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CountSet)]
    [ValidateRange(1, 64 * 1024 * 1024)]
    public int Count { get; set; }

    /// <summary>Add this to an eventfd's counter.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ValueSet)]
    [ValidateRange(1UL, ulong.MaxValue - 1)]
    public ulong Value { get; set; }

    /// <summary>Emit the number of bytes written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing() => StartCanceller();

    protected override void ProcessRecord()
    {
        bool isEventFd = Fd is EventFd;
        if (isEventFd != (ParameterSetName == ValueSet))
        {
            WriteError(ErrorRecords.Usage(isEventFd ? "EventFdNeedsValue" : "ValueNeedsEventFd", ErrorCategory.InvalidArgument, Fd,
                isEventFd ? $"fd {Fd.Fd} is an eventfd: it takes a counter value, not bytes." : $"fd {Fd.Fd} is not an eventfd: -Value applies only to eventfds.",
                isEventFd ? "Use Write-Fd -Value <n>." : "Use -Text, -Bytes or -Count."));
            return;
        }

        try
        {
            int written;
            if (Fd is EventFd eventFd)
            {
                eventFd.Signal(Value, Canceller);
                written = sizeof(ulong);
            }
            else
            {
                written = Fd.Write(Payload(), Canceller);
            }

            if (PassThru)
            {
                WriteObject(written);
            }
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


    private byte[] Payload() => ParameterSetName switch
    {
        BytesSet => Bytes,
        CountSet => CreateFiller(Count),
        _ => Encoding.UTF8.GetBytes(Text),
    };

    private static byte[] CreateFiller(int count)
    {
        var bytes = new byte[count];
        Array.Fill(bytes, FillerByte);
        return bytes;
    }
}
