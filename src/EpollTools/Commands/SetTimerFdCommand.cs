using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Set-TimerFd: arms or disarms a timerfd (timerfd_settime).</summary>
[Cmdlet(VerbsCommon.Set, "TimerFd", SupportsShouldProcess = true, DefaultParameterSetName = ArmSet)]
[OutputType(typeof(TimerFd))]
public sealed class SetTimerFdCommand : PSCmdlet
{
    private const string ArmSet = "Arm";
    private const string DisarmSet = "Disarm";

    /// <summary>The timer, from New-TimerFd.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [ValidateNotNull]
    public TimerFd Fd { get; set; } = null!;

    /// <summary>Expire this long from now.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ArmSet)]
    public TimeSpan After { get; set; }

    /// <summary>Then expire again every this long (zero: once).</summary>
    [Parameter(Position = 2, ParameterSetName = ArmSet)]
    public TimeSpan Interval { get; set; }

    /// <summary>Stop the timer.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DisarmSet)]
    public SwitchParameter Disarm { get; set; }

    /// <summary>Emit the timer afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (After <= TimeSpan.Zero && !Disarm || Interval < TimeSpan.Zero)
        {
            WriteError(ErrorRecords.Usage("InvalidTimerDuration", ErrorCategory.InvalidArgument, After <= TimeSpan.Zero ? After : Interval,
                "-After must be positive and -Interval zero or positive.", "To stop the timer use -Disarm."));
            return;
        }

        if (!ShouldProcess($"timerfd {Fd.Fd}", Disarm ? "Disarm" : $"Arm to expire after {After}" + (Interval > TimeSpan.Zero ? $", then every {Interval}" : string.Empty)))
        {
            return;
        }

        try
        {
            if (Disarm)
            {
                Fd.Disarm();
            }
            else
            {
                Fd.Arm(After, Interval);
            }

            if (PassThru)
            {
                WriteObject(Fd);
            }
        }
        catch (Exception e) when (e is LinuxErrorException or ObjectDisposedException)
        {
            WriteError(ErrorRecords.ForException(e, Fd));
        }
    }
}
