namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// A waiting call's timeout as a bpftrace expression of its sign: -1 none (wait until an event), 0 zero (a poll, not a
/// wait), 1 finite. The programs keep it from the enter probe, to tell a poll that found nothing from a timeout that
/// passed.
/// </summary>
public static class TimeoutSign
{
    /// <summary>Where a timespec's tv_nsec (or a timeval's tv_usec) is: after the 64-bit seconds.</summary>
    private const int SecondWord = 8;

    /// <summary>An int timeout in milliseconds (epoll_wait, poll): it sits in a 64-bit slot, its low 32 bits the value.</summary>
    public static string OfMilliseconds(string argument) => $"(int32){argument} < 0 ? -1 : ((int32){argument} == 0 ? 0 : 1)";

    /// <summary>
    /// A pointed timeout (epoll_pwait2, ppoll, pselect6: __kernel_timespec, two 64-bit words; select: a timeval, two
    /// longs, 64-bit words on a 64-bit kernel): NULL is none, both words zero is zero.
    /// </summary>
    public static string OfPointer(string argument)
        => $"(uint64){argument} == 0 ? -1 : ((*(int64 *)((uint64){argument}) == 0 && *(int64 *)((uint64){argument} + {SecondWord}) == 0) ? 0 : 1)";
}
