using System;
using System.Globalization;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>What a line of an exact trace reports (see <see cref="EpollCallProgram"/>).</summary>
public enum EpollCall
{
    /// <summary>epoll_ctl returned: Fd (the target), Op, Events and Data as passed, Result.</summary>
    Ctl,

    /// <summary>
    /// An epoll wait returned: Result events (or -errno), and its TimeoutSign. The first event comes with it (<see cref="EpollCallRecord.CarriesFirstEvent"/>:
    /// Events, Data), the others follow as <see cref="Event"/> lines.
    /// </summary>
    WaitReturn,

    /// <summary>One event of the wait just returned: Index, Events, Data.</summary>
    Event,

    /// <summary>A wait entered before the trace began returned: Result events (not read), or -errno.</summary>
    EarlierWaitReturn,

    /// <summary>epoll_create1 (or epoll_create) returned: Result is the new epoll fd, or -errno.</summary>
    Create,

    /// <summary>close returned: Fd, Result.</summary>
    Close,

    /// <summary>dup2 or dup3 returned: OldFd, Fd (the new fd, closed first if open), Result.</summary>
    Dup,

    /// <summary>The process made a child process or a thread: Child (its id), Thread.</summary>
    Fork,

    /// <summary>A thread exited: ProcessEnded when it was the process's last.</summary>
    Exit,
}

/// <summary>
/// One line of an exact trace, parsed: the call, when it returned (the kernel's monotonic clock, ns), the process
/// and thread, and the call's fields. A pure function of the text, unit-tested on captured lines.
/// </summary>
public sealed record EpollCallRecord(EpollCall Call, ulong Nanoseconds, int Pid, int Tid)
{
    public int EpollFd { get; init; } = -1;

    public int Op { get; init; }

    public int Fd { get; init; } = -1;

    public int OldFd { get; init; } = -1;

    public uint Events { get; init; }

    public ulong Data { get; init; }

    public int Index { get; init; }

    /// <summary>The call's return value: a count or an fd, or -errno.</summary>
    public long Result { get; init; }

    /// <summary>A wait's timeout: -1 none, 0 zero (a poll), 1 finite (also for a wait begun before the trace: not known).</summary>
    public int TimeoutSign { get; init; } = 1;

    /// <summary>Whether a wait's return carries its first event (Index 0, Events, Data).</summary>
    public bool CarriesFirstEvent { get; init; }

    /// <summary>A fork's child: the new process's id, or the new thread's.</summary>
    public int Child { get; init; }

    /// <summary>Whether a fork made a thread (CLONE_THREAD) rather than a process.</summary>
    public bool Thread { get; init; }

    /// <summary>Whether an exit ended the process (its last thread).</summary>
    public bool ProcessEnded { get; init; }

    /// <summary>The record a line says; null for a line that is not one (bpftrace's own messages).</summary>
    public static EpollCallRecord? Parse(string line)
    {
        var fields = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 4 || fields[0].Length != 1
            || !ulong.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong ns)
            || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            || !int.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
        {
            return null;
        }

        try
        {
            return (fields[0][0], fields.Length) switch
            {
                ('C', 10) => new EpollCallRecord(EpollCall.Ctl, ns, pid, tid)
                {
                    EpollFd = Int(fields[4]), Op = Int(fields[5]), Fd = Int(fields[6]),
                    Events = uint.Parse(fields[7], CultureInfo.InvariantCulture), Data = ulong.Parse(fields[8], CultureInfo.InvariantCulture), Result = Long(fields[9]),
                },
                ('W', 7) => new EpollCallRecord(EpollCall.WaitReturn, ns, pid, tid) { EpollFd = Int(fields[4]), TimeoutSign = Int(fields[5]), Result = Long(fields[6]) },
                ('W', 9) => new EpollCallRecord(EpollCall.WaitReturn, ns, pid, tid)
                {
                    EpollFd = Int(fields[4]), TimeoutSign = Int(fields[5]), Result = Long(fields[6]), CarriesFirstEvent = true,
                    Events = uint.Parse(fields[7], CultureInfo.InvariantCulture), Data = ulong.Parse(fields[8], CultureInfo.InvariantCulture),
                },
                ('E', 8) => new EpollCallRecord(EpollCall.Event, ns, pid, tid)
                {
                    EpollFd = Int(fields[4]), Index = Int(fields[5]),
                    Events = uint.Parse(fields[6], CultureInfo.InvariantCulture), Data = ulong.Parse(fields[7], CultureInfo.InvariantCulture),
                },
                ('N', 5) => new EpollCallRecord(EpollCall.Create, ns, pid, tid) { Result = Long(fields[4]) },
                ('U', 5) => new EpollCallRecord(EpollCall.EarlierWaitReturn, ns, pid, tid) { Result = Long(fields[4]) },
                ('X', 6) => new EpollCallRecord(EpollCall.Close, ns, pid, tid) { Fd = Int(fields[4]), Result = Long(fields[5]) },
                ('D', 7) => new EpollCallRecord(EpollCall.Dup, ns, pid, tid) { OldFd = Int(fields[4]), Fd = Int(fields[5]), Result = Long(fields[6]) },
                ('F', 6) => new EpollCallRecord(EpollCall.Fork, ns, pid, tid) { Child = Int(fields[4]), Thread = fields[5] == "1" },
                ('Q', 5) => new EpollCallRecord(EpollCall.Exit, ns, pid, tid) { ProcessEnded = fields[4] == "1" },
                _ => null,
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return null;
        }
    }

    private static int Int(string text) => int.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static long Long(string text) => long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
