using System;
using System.Globalization;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>A timerfd: its clock, when it fires next and how often (fs/timerfd.c timerfd_show).</summary>
public sealed class TimerFdKind : AnonInodeKind
{
    private static readonly TimerFdFields None = new(0, 0, 0, TimeSpan.Zero, TimeSpan.Zero);

    protected override string Name => "timerfd";

    public override (TargetKind Kind, string Description) Describe(FdTarget target)
        => (TargetKind.TimerFd, target.Info?.TimerFd is { } timer ? Describe(timer) : "timerfd");

    public override bool TryParseField(ParsedFdInfo info, string key, string value)
    {
        var timer = info.TimerFd ?? None;
        switch (key)
        {
            case "clockid":
                info.TimerFd = timer with { ClockId = int.Parse(value, CultureInfo.InvariantCulture) };
                return true;
            case "ticks":
                info.TimerFd = timer with { Ticks = ulong.Parse(value, CultureInfo.InvariantCulture) };
                return true;
            case "settime flags":
                info.TimerFd = timer with { SettimeFlags = FdInfoFields.Octal(value) };
                return true;
            case "it_value":
                info.TimerFd = timer with { Value = FdInfoFields.SecondsNanoseconds(value) };
                return true;
            case "it_interval":
                info.TimerFd = timer with { Interval = FdInfoFields.SecondsNanoseconds(value) };
                return true;
            default:
                return false;
        }
    }

    private static string Describe(TimerFdFields timer)
    {
        string clock = timer.ClockId switch
        {
            TimerFdFlags.CLOCK_REALTIME => "REALTIME",
            TimerFdFlags.CLOCK_MONOTONIC => "MONOTONIC",
            TimerFdFlags.CLOCK_BOOTTIME => "BOOTTIME",
            TimerFdFlags.CLOCK_REALTIME_ALARM => "REALTIME_ALARM",
            TimerFdFlags.CLOCK_BOOTTIME_ALARM => "BOOTTIME_ALARM",
            _ => "clock " + timer.ClockId,
        };
        if (timer.Value == TimeSpan.Zero)
        {
            return $"timerfd {clock} disarmed";
        }

        string interval = timer.Interval == TimeSpan.Zero ? "once" : $"every {Seconds(timer.Interval)}";
        return $"timerfd {clock} next in {Seconds(timer.Value)}, {interval}";
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
