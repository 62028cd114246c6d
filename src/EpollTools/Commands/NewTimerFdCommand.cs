using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>New-TimerFd: timerfd_create(2), optionally armed at once.</summary>
[Cmdlet(VerbsCommon.New, "TimerFd")]
[OutputType(typeof(TimerFd))]
public sealed class NewTimerFdCommand : FdSourceCommandBase
{
    /// <summary>The clock the timer follows.</summary>
    [Parameter]
    public TimerClock Clock { get; set; } = TimerClock.Monotonic;

    /// <summary>Arm the timer to expire this long from now.</summary>
    [Parameter(Position = 0)]
    public TimeSpan After { get; set; }

    /// <summary>Then expire again every this long.</summary>
    [Parameter(Position = 1)]
    public TimeSpan Interval { get; set; }

    /// <summary>O_NONBLOCK: a read before expiry fails with EAGAIN instead of waiting.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void EndProcessing()
    {
        if (After < TimeSpan.Zero || Interval < TimeSpan.Zero)
        {
            ThrowTerminatingError(ErrorRecords.Usage("InvalidTimerDuration", ErrorCategory.InvalidArgument,
                After < TimeSpan.Zero ? After : Interval, "Timer durations cannot be negative.",
                "Give -After and -Interval as positive TimeSpans, e.g. ([TimeSpan]::FromMilliseconds(100))."));
        }

        WriteCreated(() =>
        {
            var timer = TimerFd.Create(Clock, NonBlocking);
            try
            {
                if (After > TimeSpan.Zero)
                {
                    timer.Arm(After, Interval);
                }
            }
            catch
            {
                timer.Dispose(); // not written, so closed here
                throw;
            }

            return timer;
        }, Clock);
    }
}
