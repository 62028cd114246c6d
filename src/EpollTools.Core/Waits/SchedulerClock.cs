using System;
using System.Collections.Generic;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Waits;

/// <summary>
/// "Now" in the clock that stamps se.exec_start in /proc/&lt;pid&gt;/task/&lt;tid&gt;/sched: each CPU's task clock
/// (kernel/sched/core.c, update_rq_clock_task), which leaves out the time the hypervisor stole from that CPU (and,
/// with IRQ time accounting, interrupts). It falls behind CLOCK_MONOTONIC by all of that since boot, per CPU: a second
/// on this project's VM, hours on a busy one, so "monotonic now minus exec_start" overstated every wait by as much.
/// A CPU's offset is measured from this thread's own exec_start, stamped as it is scheduled onto that CPU (it is
/// moved there for the reading and put back): one offset per CPU per scan.
/// </summary>
public sealed class SchedulerClock
{
    private readonly Dictionary<int, double?> _offsets = new();

    /// <summary>
    /// The task clock of <paramref name="cpu"/> now, in milliseconds; null if it cannot be read (a kernel without
    /// CONFIG_SCHED_DEBUG has no exec_start at all).
    /// </summary>
    public double? NowOn(int cpu)
    {
        if (!_offsets.TryGetValue(cpu, out double? offset))
        {
            offset = MeasureOn(cpu) ?? MeasureHere();
            _offsets[cpu] = offset;
        }

        return offset is double behind ? MonotonicMilliseconds() - behind : null;
    }

    /// <summary>The offset of <paramref name="cpu"/>'s clock, read after moving this thread there; null if it may not run there.</summary>
    private static unsafe double? MeasureOn(int cpu)
    {
        if (cpu < 0 || cpu >= AffinityConstants.CpuSetBytes * 8)
        {
            return null;
        }

        byte* saved = stackalloc byte[AffinityConstants.CpuSetBytes];
        if (NativeMethods.sched_getaffinity(0, AffinityConstants.CpuSetBytes, saved) < 0)
        {
            return null;
        }

        byte* only = stackalloc byte[AffinityConstants.CpuSetBytes];
        new Span<byte>(only, AffinityConstants.CpuSetBytes).Clear();
        only[cpu / 8] = (byte)(1 << (cpu % 8));
        if (NativeMethods.sched_setaffinity(0, AffinityConstants.CpuSetBytes, only) < 0)
        {
            return null; // not allowed there (a cpuset), or no such CPU
        }

        try
        {
            // The call returns with this thread running on that CPU, its exec_start just stamped.
            return MeasureHere();
        }
        finally
        {
            NativeMethods.sched_setaffinity(0, AffinityConstants.CpuSetBytes, saved);
        }
    }

    /// <summary>Monotonic now minus this thread's exec_start on the CPU it runs on.</summary>
    private static double? MeasureHere()
    {
        double? own = TaskParser.ParseExecStartMilliseconds(TaskFiles.ReadThreadSelf("sched") ?? string.Empty);
        double now = MonotonicMilliseconds();
        return own is double stamped ? now - stamped : null;
    }

    /// <summary>CLOCK_MONOTONIC in milliseconds: the clock the scheduler's se.exec_start is kept in (near enough).</summary>
    private static unsafe double MonotonicMilliseconds()
    {
        NativeMethods.TimeSpec now;
        NativeMethods.clock_gettime(ClockConstants.CLOCK_MONOTONIC, &now);
        return now.Seconds * 1000.0 + now.Nanoseconds / 1e6;
    }
}
