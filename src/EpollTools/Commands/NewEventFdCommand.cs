using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>New-EventFd: eventfd(2), a counter that is readable while non-zero.</summary>
[Cmdlet(VerbsCommon.New, "EventFd")]
[OutputType(typeof(EventFd))]
public sealed class NewEventFdCommand : FdSourceCommandBase
{
    /// <summary>The counter's starting value; non-zero makes the fd readable at once.</summary>
    [Parameter(Position = 0)]
    public uint InitialValue { get; set; }

    /// <summary>EFD_SEMAPHORE: each read takes 1 from the counter.</summary>
    [Parameter]
    public SwitchParameter Semaphore { get; set; }

    /// <summary>O_NONBLOCK: a read of a zero counter fails with EAGAIN instead of waiting.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void EndProcessing() => WriteCreated(() => EventFd.Create(InitialValue, Semaphore, NonBlocking));
}
