using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Tracing;

/// <summary>The differences between two readings of one interest list, as pure functions of the parsed lines.</summary>
public static class InterestDiff
{
    /// <summary>
    /// The registrations added, removed and changed from <paramref name="before"/> to <paramref name="after"/>. A
    /// registration is known by its tfd and its file's inode and device (the kernel's own key is file and fd);
    /// registrations that share all three (files on the shared anonymous inode) are paired in kernel order.
    /// </summary>
    public static List<(InterestChangeKind Kind, EpollTargetLine? Before, EpollTargetLine? After)> Compare(IReadOnlyList<EpollTargetLine> before, IReadOnlyList<EpollTargetLine> after)
    {
        var old = Keyed(before);
        var now = Keyed(after);
        var changes = new List<(InterestChangeKind, EpollTargetLine?, EpollTargetLine?)>();
        foreach (var (key, line) in old)
        {
            if (!now.TryGetValue(key, out var current))
            {
                changes.Add((InterestChangeKind.Removed, line, null));
            }
            else if (current.Events != line.Events || current.Data != line.Data)
            {
                changes.Add((KindOfModification(line.Events, current.Events), line, current));
            }
        }

        foreach (var (key, line) in now)
        {
            if (!old.ContainsKey(key))
            {
                changes.Add((InterestChangeKind.Added, null, line));
            }
        }

        return changes;
    }

    /// <summary>A one-shot going from armed to flags alone fired; the other way, it was re-armed; anything else is a modification.</summary>
    public static InterestChangeKind KindOfModification(EpollEvents before, EpollEvents after)
    {
        bool wasArmed = (before & ~EpollEventGroups.PrivateBits) != 0;
        bool isArmed = (after & ~EpollEventGroups.PrivateBits) != 0;
        return (after & EpollEvents.OneShot) != 0 && wasArmed && !isArmed ? InterestChangeKind.Disarmed
            : (before & EpollEvents.OneShot) != 0 && !wasArmed && isArmed ? InterestChangeKind.Rearmed
            : InterestChangeKind.Modified;
    }

    private static Dictionary<(int Tfd, ulong? Ino, uint? Device, int Nth), EpollTargetLine> Keyed(IReadOnlyList<EpollTargetLine> lines)
    {
        var keyed = new Dictionary<(int, ulong?, uint?, int), EpollTargetLine>();
        foreach (var line in lines.OrderBy(l => l.Tfd).ThenBy(l => l.Offset))
        {
            int nth = 0;
            while (keyed.ContainsKey((line.Tfd, line.Ino, line.KernelDevice, nth)))
            {
                nth++;
            }

            keyed[(line.Tfd, line.Ino, line.KernelDevice, nth)] = line;
        }

        return keyed;
    }
}

/// <summary>
/// Samples a fixed set of epoll instances (and, if asked, the threads waiting on them) and reports what changed
/// since the last sample. Each sample reads each instance's fdinfo once, and the syscall file of each thread of
/// their processes: the cost follows the lists traced, not the host. Targets are resolved only for changes.
/// </summary>
public sealed class InterestTracer
{
    private readonly List<Traced> _traced = new();
    private readonly bool _threads;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<int, (int Pid, int EpollFd, string Call)> _waiting = new();

    /// <param name="instances">The instances to trace, as <see cref="InstanceFinder.GroupSharedInstances"/> gives them; each is read through its first holder.</param>
    /// <param name="includeThreads">Also report threads that start or stop waiting on them.</param>
    public InterestTracer(IEnumerable<IReadOnlyList<InstanceHolder>> instances, bool includeThreads)
    {
        _threads = includeThreads;
        foreach (var holders in instances)
        {
            var owner = holders[0];
            if (Read(owner) is ParsedFdInfo info)
            {
                _traced.Add(new Traced(owner, holders.Select(h => h.Pid).Distinct().ToArray(), info.EpollTargets));
            }
        }

        if (_threads)
        {
            foreach (var (tid, wait) in ReadWaiting())
            {
                _waiting[tid] = wait;
            }
        }
    }

    /// <summary>How many instances are still traced.</summary>
    public int InstanceCount => _traced.Count;

    /// <summary>How many registrations they had at the last sample.</summary>
    public int RegistrationCount => _traced.Sum(t => t.Lines.Count);

    /// <summary>Reads every traced instance again and returns what changed since the last sample, in instance order.</summary>
    public List<EpollInterestChange> Sample()
    {
        var time = DateTime.Now;
        var elapsed = _clock.Elapsed;
        var resolver = new TargetResolver(); // fresh each sample: the socket tables it caches change over a trace
        var changes = new List<EpollInterestChange>();
        foreach (var traced in _traced.ToList())
        {
            var owner = traced.Owner;
            if (Read(owner) is not ParsedFdInfo info)
            {
                _traced.Remove(traced);
                changes.Add(Change(time, elapsed, owner, InterestChangeKind.InstanceClosed, detail: ProcessCondition.HasExited(owner.Pid) ? "process exited" : "epoll fd closed"));
                continue;
            }

            var lines = info.EpollTargets;
            var judge = new RegistrationJudge(owner, info, RegistrationFileAccess.OfKernel);
            foreach (var (kind, before, after) in InterestDiff.Compare(traced.Lines, lines))
            {
                var line = after ?? before!;
                string target = kind == InterestChangeKind.Removed
                    ? traced.Targets.GetValueOrDefault(Key(line)) ?? $"ino {line.Ino:x} on {line.Device}"
                    : traced.Targets[Key(line)] = Describe(resolver, judge, traced.HolderPids, line);
                changes.Add(Change(time, elapsed, owner, kind, line.Tfd, before, after, target, Detail(kind, before, after)));
            }

            traced.Lines = lines;
        }

        if (_threads)
        {
            changes.AddRange(ThreadChanges(time, elapsed));
        }

        return changes;
    }

    private IEnumerable<EpollInterestChange> ThreadChanges(DateTime time, TimeSpan elapsed)
    {
        var now = ReadWaiting();
        foreach (var (tid, wait) in now)
        {
            if (!_waiting.ContainsKey(tid))
            {
                yield return ThreadChange(time, elapsed, InterestChangeKind.StartedWaiting, tid, wait, $"entered {wait.Call}");
            }
        }

        foreach (var (tid, wait) in _waiting)
        {
            if (!now.ContainsKey(tid))
            {
                yield return ThreadChange(time, elapsed, InterestChangeKind.StoppedWaiting, tid, wait, $"left {wait.Call}");
            }
        }

        _waiting.Clear();
        foreach (var (tid, wait) in now)
        {
            _waiting[tid] = wait;
        }
    }

    private EpollInterestChange ThreadChange(DateTime time, TimeSpan elapsed, InterestChangeKind kind, int tid, (int Pid, int EpollFd, string Call) wait, string what)
    {
        var owner = _traced.Select(t => t.Owner).FirstOrDefault(o => o.Pid == wait.Pid && o.Fd == wait.EpollFd) ?? new InstanceHolder(wait.Pid, ProcFs.ReadComm(wait.Pid) ?? string.Empty, wait.EpollFd);
        string name = (TaskFiles.Read(wait.Pid, tid, "comm") ?? string.Empty).TrimEnd('\n');
        return Change(time, elapsed, owner, kind, detail: $"tid {tid}{(name.Length > 0 ? $" ({name})" : string.Empty)} {what}", thread: (tid, name));
    }

    /// <summary>The threads of the traced processes blocked in an epoll wait on a traced epoll fd, by thread id.</summary>
    private Dictionary<int, (int Pid, int EpollFd, string Call)> ReadWaiting()
    {
        var waiting = new Dictionary<int, (int, int, string)>();
        foreach (var process in _traced.GroupBy(t => t.Owner.Pid))
        {
            var epollFds = process.Select(t => t.Owner.Fd).ToHashSet();
            foreach (var (tid, epollFd, call) in EpollWaiters.EpollWaitsOf(process.Key))
            {
                if (epollFds.Contains(epollFd))
                {
                    waiting[tid] = (process.Key, epollFd, call.Name);
                }
            }
        }

        return waiting;
    }

    private static EpollInterestChange Change(DateTime time, TimeSpan elapsed, InstanceHolder owner, InterestChangeKind kind, int? tfd = null,
        EpollTargetLine? before = null, EpollTargetLine? after = null, string? target = null, string detail = "", (int Id, string Name)? thread = null) => new()
    {
        Time = time,
        Elapsed = elapsed,
        Change = kind,
        ProcessId = owner.Pid,
        ProcessName = owner.ProcessName,
        EpollFd = owner.Fd,
        TargetFd = tfd,
        OldEvents = before?.Events,
        Events = after?.Events,
        OldData = before?.Data,
        Data = after?.Data,
        Target = target,
        ThreadId = thread?.Id,
        ThreadName = thread?.Name,
        Detail = detail,
    };

    /// <summary>"IN|ET 0x5", or for a change "IN 0x5 -> IN|OUT 0x5"; the ERR|HUP every registration has is left out.</summary>
    private static string Detail(InterestChangeKind kind, EpollTargetLine? before, EpollTargetLine? after) => kind switch
    {
        InterestChangeKind.Added => Registration(after!),
        InterestChangeKind.Removed => Registration(before!),
        _ => $"{Registration(before!)} -> {Registration(after!)}",
    };

    private static string Registration(EpollTargetLine line)
        => $"{EpollEventsText.ToShortString(line.Events & ~(EpollEvents.Err | EpollEvents.Hup))} 0x{line.Data:x}";

    /// <summary>
    /// What the registered file is, from the first holder of the instance whose fd with that number is the registered
    /// file as <paramref name="judge"/> decides (a shared instance's line belongs to the fd table of whichever holder
    /// registered it); a number that cannot be told is described as what it is now, said to be unproven.
    /// </summary>
    private static string Describe(TargetResolver resolver, RegistrationJudge judge, int[] holderPids, EpollTargetLine line)
    {
        string? unproven = null;
        foreach (int pid in holderPids)
        {
            try
            {
                if (FdFiles.ReadLink(pid, line.Tfd) is not string link)
                {
                    continue;
                }

                var state = judge.Judge(pid, line, link).State;
                if (state == RegistrationState.Current)
                {
                    return resolver.Resolve(pid, line.Tfd, link).Description;
                }

                if (state == RegistrationState.Unknown)
                {
                    unproven ??= $"unproven: fd {line.Tfd} is now {resolver.Resolve(pid, line.Tfd, link).Description}";
                }
            }
            catch (ProcessUnreadableException)
            {
                // another holder may still tell
            }
        }

        return unproven ?? $"ino {line.Ino:x} on {line.Device}";
    }

    private static (int, ulong?, uint?) Key(EpollTargetLine line) => (line.Tfd, line.Ino, line.KernelDevice);

    private static ParsedFdInfo? Read(InstanceHolder owner)
    {
        try
        {
            return FdFiles.ParseInfo(owner.Pid, owner.Fd); // parsed as read: a large instance is sampled often
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    private sealed class Traced
    {
        public Traced(InstanceHolder owner, int[] holderPids, List<EpollTargetLine> lines)
        {
            Owner = owner;
            HolderPids = holderPids;
            Lines = lines;
        }

        public InstanceHolder Owner { get; }

        /// <summary>The processes holding the instance, the owner first: where a registration's fd may be.</summary>
        public int[] HolderPids { get; }

        public List<EpollTargetLine> Lines { get; set; }

        /// <summary>What each registration was resolved to when it was added or changed, to name it when it goes.</summary>
        public Dictionary<(int, ulong?, uint?), string> Targets { get; } = new();
    }
}
