using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Waits;

/// <summary>A thread's state as the module judged it, with the evidence it read.</summary>
public sealed record ThreadCondition(char? State, ThreadHold Hold, string WaitChannel, int? TracerPid, string? TracerName, string? FrozenCgroup)
{
    public static readonly ThreadCondition Unknown = new(null, ThreadHold.None, string.Empty, null, null, null);

    /// <summary>Whether an event on the thread's fds could wake it now.</summary>
    public bool CanBeWoken => Hold == ThreadHold.None;

    /// <summary>
    /// The hold of a thread from what /proc shows, as a pure function: <paramref name="frozen"/> is whether its
    /// cgroup is frozen (asked only where the state allows it, see <see cref="MayBeFrozen"/>).
    /// </summary>
    public static ThreadHold Judge(char? state, uint? flags, bool frozen) => state switch
    {
        _ when TaskParser.IsExiting(state, flags) => ThreadHold.Exiting,
        _ when frozen => ThreadHold.Frozen,
        'T' => ThreadHold.Stopped,
        't' => ThreadHold.Traced,
        'D' => ThreadHold.UninterruptibleSleep,
        _ => ThreadHold.None,
    };

    /// <summary>
    /// Whether a thread in this state at this wait channel may be held by a cgroup freezer: v1 freezes tasks in
    /// place (TASK_FROZEN, shown as D), v2 traps them in do_freezer_trap (shown as S).
    /// </summary>
    public static bool MayBeFrozen(char? state, string waitChannel)
        => state == 'D' || waitChannel is "do_freezer_trap" or "__refrigerator";

    /// <summary>
    /// Reads the state of thread <paramref name="tid"/> of <paramref name="pid"/>: stat (state, flags), wchan, status
    /// (the tracer) and, where the state allows it, whether its cgroup is frozen. <paramref name="stat"/> and
    /// <paramref name="waitChannel"/> pass what the caller read already. Null when the thread is gone.
    /// </summary>
    public static ThreadCondition? Read(int pid, int tid, string? stat = null, string? waitChannel = null)
    {
        stat ??= TaskFiles.Read(pid, tid, "stat");
        if (stat is null)
        {
            return null;
        }

        char? state = TaskParser.ParseStatState(stat);
        string wchan = waitChannel ?? (TaskFiles.Read(pid, tid, "wchan") ?? string.Empty).Trim();
        wchan = wchan == "0" ? string.Empty : wchan;
        string? frozenBy = MayBeFrozen(state, wchan) ? CgroupFreezer.FrozenCgroupOf(pid) : null;
        int? tracer = TaskFiles.Read(pid, tid, "status") is string status ? TaskParser.ParseTracerPid(status) : null;
        string? tracerName = tracer > 0 ? ProcFs.ReadComm(tracer.Value) : null;
        var hold = Judge(state, TaskParser.ParseStatFlags(stat), frozenBy is not null);
        return new ThreadCondition(state, hold, wchan, tracer > 0 ? tracer : null, tracerName, frozenBy);
    }

    /// <summary>
    /// The hold of a whole process: the hold its threads share when every thread is held (a stop signal stops them
    /// all, a debugger in all-stop mode holds them all, a freezer freezes them all); None while any thread can run or
    /// be woken, or when the process cannot be read. The first held thread's condition is returned as the evidence.
    /// </summary>
    public static ThreadCondition OfProcess(int pid)
    {
        ThreadCondition? first = null;
        try
        {
            foreach (int tid in TaskFiles.ListThreads(pid))
            {
                if (Read(pid, tid) is not ThreadCondition condition)
                {
                    continue; // a thread that exited meanwhile holds nothing
                }

                if (condition.CanBeWoken)
                {
                    return Unknown;
                }

                first ??= condition;
            }
        }
        catch (ProcessUnreadableException)
        {
            return Unknown;
        }

        return first ?? Unknown;
    }

    /// <summary>The state letter in the kernel's words, as <see cref="TaskParser.DescribeState"/> gives it.</summary>
    public string StateText => State is char letter ? TaskParser.DescribeState(letter) : string.Empty;

    /// <summary>Who or what holds the thread, in a few words for a table: "stopped by a signal", "held by gdb (4148)".</summary>
    public string Cause => Hold switch
    {
        ThreadHold.Stopped => "stopped by a signal",
        ThreadHold.Traced => $"held by {TracerText}",
        ThreadHold.Frozen => "frozen by its cgroup",
        ThreadHold.UninterruptibleSleep => $"in D state ({(WaitChannel.Length > 0 ? WaitChannel : "?")})",
        ThreadHold.Exiting => State is 'Z' ? "zombie (exited)" : "exiting",
        _ => string.Empty,
    };

    private string TracerText => TracerPid is int tracer ? $"{TracerName ?? "a tracer"} ({tracer.ToString(CultureInfo.InvariantCulture)})" : "a tracer";

    /// <summary>What the hold means and what ends it, for a thread that was in <paramref name="call"/>.</summary>
    public string Explain(string who, string call) => Hold switch
    {
        ThreadHold.Stopped => $"{who} is stopped (state T, wait channel {WaitChannel}): a stop signal (SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU: kill -STOP, Ctrl+Z, a supervisor) stopped the whole process. It has left {call}; no event wakes it and nothing it has ready is read until SIGCONT resumes it, when the call returns EINTR and the program waits again. The program's own code is not the cause: find who stopped it.",
        ThreadHold.Traced => $"{who} is in a tracing stop (state t, wait channel {WaitChannel}): {TracerText} is attached with ptrace and holds it (a debugger at a breakpoint or interrupted, a tracer that stopped it). It has left {call}; no event wakes it and nothing it has ready is read until the tracer lets it continue or detaches.",
        ThreadHold.Frozen => $"{who} is frozen: its cgroup {FrozenCgroup} is frozen (cgroup freezer: docker pause, systemctl freeze, a checkpoint). No event wakes it and nothing it has ready is read until the cgroup is thawed.",
        ThreadHold.UninterruptibleSleep => $"{who} is in uninterruptible sleep (state D) in {(WaitChannel.Length > 0 ? WaitChannel : "the kernel")}: it waits on the kernel (I/O, a lock, a page fault), not on its fds, and no event on them wakes it. -IncludeKernelStack shows where it sleeps (as root).",
        ThreadHold.Exiting => State is 'Z'
            ? $"{who} has exited and is a zombie: its fds are closed, and its parent has not reaped it (wait(2)). Nothing it registered or polled will be handled."
            : $"{who} is exiting: the kernel is closing its fds (PF_EXITING). Nothing it registered or polled will be handled.",
        _ => string.Empty,
    };

    /// <summary>The diagnosis kind that names this hold; null for <see cref="ThreadHold.None"/>.</summary>
    public DiagnosisKind? Kind => Hold switch
    {
        ThreadHold.Stopped => DiagnosisKind.Stopped,
        ThreadHold.Traced => DiagnosisKind.HeldByTracer,
        ThreadHold.Frozen => DiagnosisKind.Frozen,
        ThreadHold.UninterruptibleSleep => DiagnosisKind.UninterruptibleSleep,
        ThreadHold.Exiting => DiagnosisKind.Exiting,
        _ => null,
    };

    /// <summary>
    /// For a registration of a held process with <paramref name="unread"/> ready: the data waits because the process
    /// is held, not because the program's reads are wrong (what <see cref="DiagnosisKind.EdgeTriggeredUnread"/> would
    /// say of a process that runs). Null when nothing holds it.
    /// </summary>
    public Diagnosis? DiagnoseReady(int pid, int fd, string unread)
        => Kind is DiagnosisKind kind
            ? new Diagnosis
            {
                Kind = kind,
                Summary = $"{unread} ready; {Cause}",
                Explanation = $"{unread} is ready on fd {fd} and not read because the process cannot run: " + Explain($"Process {pid}", "its wait"),
            }
            : null;

    /// <summary>The diagnosis of a held thread that was in <paramref name="call"/>; null when nothing holds it.</summary>
    public Diagnosis? Diagnose(string who, string call)
        => Kind is DiagnosisKind kind ? new Diagnosis { Kind = kind, Summary = Cause, Explanation = Explain(who, call) } : null;
}

/// <summary>What a whole process is, where that explains why it waits on nothing: exited, a zombie, a kernel thread.</summary>
public static class ProcessCondition
{
    /// <summary>Whether <paramref name="pid"/> is a kernel thread (false if it cannot be read).</summary>
    public static bool IsKernelThread(int pid) => ProcFs.ReadProcessFile(pid, "stat") is string stat && TaskParser.IsKernelThread(stat);

    /// <summary>Whether the process is gone, a zombie, or exiting (PF_EXITING): its fds are closed or closing.</summary>
    public static bool HasExited(int pid)
    {
        string? stat = ProcFs.ReadProcessFile(pid, "stat");
        return stat is null || TaskParser.IsExiting(stat);
    }

    /// <summary>
    /// Why the process has no fd to wait on, when that is what it is: a zombie (exited, its parent not done with
    /// it) or a kernel thread; null for a process that may simply wait elsewhere.
    /// </summary>
    public static string? WhyNoWait(int pid, string name)
    {
        if (ProcFs.ReadProcessFile(pid, "stat") is not string stat)
        {
            return null;
        }

        if (TaskParser.IsKernelThread(stat))
        {
            return $"Process {pid} ({name}) is a kernel thread: it makes no system calls and holds no fds.";
        }

        if (TaskParser.ParseStatState(stat) is 'Z')
        {
            int? parent = TaskParser.ParseStatParentPid(stat);
            string parentName = parent is int ppid ? $"{ppid} ({ProcFs.ReadComm(ppid) ?? "?"})" : "its parent";
            return $"Process {pid} ({name}) is a zombie: it has exited, and its parent {parentName} has not reaped it with wait(2). It holds no fds and waits on nothing; the parent is the one to look at.";
        }

        return null;
    }
}

/// <summary>Whether a process's cgroup is frozen, by the cgroup v1 freezer or the v2 cgroup.freeze.</summary>
public static class CgroupFreezer
{
    private static readonly Lazy<(string? V1Freezer, string? V2)> Mounts = new(FindMounts);

    /// <summary>The frozen cgroup of <paramref name="pid"/> as /proc/&lt;pid&gt;/cgroup names it; null when not frozen or unknown.</summary>
    public static string? FrozenCgroupOf(int pid)
    {
        string? text;
        try
        {
            text = File.ReadAllText($"{ProcFs.Root}/{pid}/cgroup");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var (v1, v2) = Mounts.Value;
        foreach (var (hierarchy, path) in ParseCgroupFile(text))
        {
            if (hierarchy == "0" && v2 is not null && ReadOrNull($"{v2}{path}/cgroup.events") is string events && HasLine(events, "frozen 1"))
            {
                return path;
            }

            if (hierarchy.Contains("freezer", StringComparison.Ordinal) && v1 is not null
                && ReadOrNull($"{v1}{path}/freezer.state")?.Trim() is "FROZEN" or "FREEZING")
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>The lines of /proc/&lt;pid&gt;/cgroup as (hierarchy id and controllers, path): "6:freezer:/a" gives ("6:freezer", "/a").</summary>
    public static IEnumerable<(string Hierarchy, string Path)> ParseCgroupFile(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int last = line.IndexOf(':', line.IndexOf(':') + 1);
            if (last > 0)
            {
                string head = line[..last];
                yield return (head.StartsWith("0:", StringComparison.Ordinal) && head.Length == 2 ? "0" : head, line[(last + 1)..]);
            }
        }
    }

    private static bool HasLine(string text, string wanted)
    {
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.Trim().SequenceEqual(wanted))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where this process sees the v1 freezer hierarchy and the v2 hierarchy mounted (/proc/self/mountinfo).</summary>
    private static (string?, string?) FindMounts()
    {
        string? v1 = null, v2 = null;
        foreach (var line in (ReadOrNull($"{ProcFs.Root}/self/mountinfo") ?? string.Empty).Split('\n'))
        {
            // "36 25 0:31 / /sys/fs/cgroup/freezer rw,relatime shared:12 - cgroup cgroup rw,freezer"
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            var fields = line.Split(' ');
            if (dash < 0 || fields.Length < 5)
            {
                continue;
            }

            var tail = line[(dash + 3)..].Split(' ');
            if (tail.Length >= 3 && tail[0] == "cgroup2")
            {
                v2 ??= fields[4];
            }
            else if (tail.Length >= 3 && tail[0] == "cgroup" && Array.IndexOf(tail[2].Split(','), "freezer") >= 0)
            {
                v1 ??= fields[4];
            }
        }

        return (v1, v2);
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
