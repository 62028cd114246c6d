using System;
using System.Globalization;
using EpollTools.Core.Native;

namespace EpollTools.Core.Parsing;

/// <summary>What /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall says a thread is doing.</summary>
public enum SyscallActivity
{
    /// <summary>"running": on a CPU now; the kernel shows nothing more.</summary>
    Running,

    /// <summary>Blocked, but not in a system call (a page fault, a ptrace stop...): number -1, no arguments.</summary>
    NotInSyscall,

    /// <summary>Blocked in the system call <see cref="ThreadSyscall.Number"/> with its six arguments.</summary>
    InSyscall,
}

/// <summary>One read of /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall.</summary>
public sealed record ThreadSyscall(SyscallActivity Activity, long Number, ulong[] Arguments, ulong StackPointer, ulong ProgramCounter)
{
    public static readonly ThreadSyscall Running = new(SyscallActivity.Running, -1, Array.Empty<ulong>(), 0, 0);

    /// <summary>Whether two reads show the same call with the same arguments at the same place (the thread never left it).</summary>
    public bool SameCallAs(ThreadSyscall other) =>
        Activity == other.Activity && Number == other.Number && StackPointer == other.StackPointer &&
        ProgramCounter == other.ProgramCounter && Arguments.AsSpan().SequenceEqual(other.Arguments);
}

/// <summary>
/// Pure parsers of the per-thread /proc files Get-MultiplexerWait reads: syscall (fs/proc/base.c proc_pid_syscall),
/// stat (fs/proc/array.c do_task_stat) and sched (kernel/sched/debug.c proc_sched_show_task). Each returns null for
/// text it cannot read, never throws.
/// </summary>
public static class TaskParser
{
    /// <summary>
    /// "running", "-1 0x&lt;sp&gt; 0x&lt;pc&gt;", or "&lt;nr&gt; 0x&lt;arg1&gt; ... 0x&lt;arg6&gt; 0x&lt;sp&gt; 0x&lt;pc&gt;".
    /// </summary>
    public static ThreadSyscall? ParseSyscall(string text)
    {
        var span = text.AsSpan().Trim();
        if (span.SequenceEqual("running"))
        {
            return ThreadSyscall.Running;
        }

        Span<Range> parts = stackalloc Range[10];
        int count = span.Split(parts, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count == 0 || !long.TryParse(span[parts[0]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
        {
            return null;
        }

        var values = new ulong[count - 1];
        for (int i = 1; i < count; i++)
        {
            var part = span[parts[i]];
            if (!part.StartsWith("0x", StringComparison.Ordinal) ||
                !ulong.TryParse(part[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out values[i - 1]))
            {
                return null;
            }
        }

        return (number, values.Length) switch
        {
            ( < 0, 2) => new ThreadSyscall(SyscallActivity.NotInSyscall, number, Array.Empty<ulong>(), values[0], values[1]),
            ( >= 0, 8) => new ThreadSyscall(SyscallActivity.InSyscall, number, values[..6], values[6], values[7]),
            _ => null,
        };
    }

    /// <summary>
    /// The state letter of /proc/&lt;pid&gt;/task/&lt;tid&gt;/stat ("S", "D", "R"...): the field after the name, which is in
    /// parentheses and may itself hold spaces and parentheses, so it is found after the last ')'.
    /// </summary>
    public static char? ParseStatState(string text)
    {
        int close = text.LastIndexOf(')');
        if (close < 0 || close + 2 >= text.Length || text[close + 1] != ' ')
        {
            return null;
        }

        char state = text[close + 2];
        return char.IsAsciiLetter(state) ? state : null;
    }

    /// <summary>
    /// The CPU the thread last ran on: field 39 (processor) of /proc/&lt;pid&gt;/task/&lt;tid&gt;/stat
    /// (Documentation/filesystems/proc.rst, table 1-4).
    /// </summary>
    public static int? ParseStatProcessor(string text)
        => StatField(text, 39) is string field && int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int cpu) ? cpu : null;

    /// <summary>
    /// Whether a task with this state and these flags has exited or is exiting: a zombie (Z), dead (X, x), or with
    /// PF_EXITING, which do_exit sets before it closes the task's files.
    /// </summary>
    public static bool IsExiting(char? state, uint? flags)
        => state is 'Z' or 'X' or 'x' || (flags is uint f && (f & Native.TaskFlags.PF_EXITING) != 0);

    /// <summary><see cref="IsExiting(char?, uint?)"/> of a stat line.</summary>
    public static bool IsExiting(string stat) => IsExiting(ParseStatState(stat), ParseStatFlags(stat));

    /// <summary>The parent's pid (field 4 of stat).</summary>
    public static int? ParseStatParentPid(string text)
        => StatField(text, 4) is string field && int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int ppid) ? ppid : null;

    /// <summary>Whether a stat line is a kernel thread's (PF_KTHREAD): it makes no system calls and holds no fds.</summary>
    public static bool IsKernelThread(string stat) => ParseStatFlags(stat) is uint flags && (flags & TaskFlags.PF_KTHREAD) != 0;

    /// <summary>The task's flags (field 9 of stat: PF_EXITING and the like, <see cref="Native.TaskFlags"/>).</summary>
    public static uint? ParseStatFlags(string text)
        => StatField(text, 9) is string field && uint.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out uint flags) ? flags : null;

    /// <summary>
    /// The process's start time (field 22 of stat, in clock ticks after boot): with the pid, what names one process
    /// over time, since a pid that is reused gets a later start time.
    /// </summary>
    public static ulong? ParseStatStartTime(string text)
        => StatField(text, 22) is string field && ulong.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks) ? ticks : null;

    /// <summary>Field <paramref name="number"/> (1-based, as proc.rst counts) of a stat line, counted after the parenthesized name, which may hold spaces.</summary>
    private static string? StatField(string text, int number)
    {
        const int FirstFieldAfterName = 3; // state
        int close = text.LastIndexOf(')');
        if (close < 0 || number < FirstFieldAfterName)
        {
            return null;
        }

        var fields = text.Substring(close + 1).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int index = number - FirstFieldAfterName;
        return index < fields.Length ? fields[index].TrimEnd('\n') : null;
    }

    /// <summary>
    /// The pid of the process tracing this thread (the "TracerPid:" line of /proc/&lt;pid&gt;/task/&lt;tid&gt;/status,
    /// fs/proc/array.c task_state); 0 when none, null when the line is missing or unreadable.
    /// </summary>
    public static int? ParseTracerPid(string statusText)
    {
        foreach (var line in statusText.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("TracerPid:", StringComparison.Ordinal))
            {
                return int.TryParse(line["TracerPid:".Length..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
            }
        }

        return null;
    }

    /// <summary>
    /// se.exec_start of /proc/&lt;pid&gt;/task/&lt;tid&gt;/sched, in milliseconds of the scheduler clock: when the thread last
    /// started or stopped running. Null when the line is missing (kernels without CONFIG_SCHED_DEBUG).
    /// </summary>
    public static double? ParseExecStartMilliseconds(string text)
    {
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (!line.StartsWith("se.exec_start", StringComparison.Ordinal))
            {
                continue;
            }

            int colon = line.IndexOf(':');
            return colon > 0 && double.TryParse(line[(colon + 1)..].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double ms) && double.IsFinite(ms)
                ? ms
                : null;
        }

        return null;
    }

    /// <summary>The kernel's names of the state letters (fs/proc/array.c task_state_array).</summary>
    public static string DescribeState(char state) => state switch
    {
        'R' => "R (running)",
        'S' => "S (sleeping)",
        'D' => "D (disk sleep)",
        'T' => "T (stopped)",
        't' => "t (tracing stop)",
        'X' => "X (dead)",
        'Z' => "Z (zombie)",
        'P' => "P (parked)",
        'I' => "I (idle)",
        _ => state.ToString(),
    };
}
