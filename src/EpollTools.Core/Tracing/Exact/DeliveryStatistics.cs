using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>How many events with one data and mask the waits of one thread on one instance returned.</summary>
public sealed record DeliveryCount(int Pid, int Tid, int EpollFd, ulong Data, EpollEvents Mask, long Count);

/// <summary>
/// The delivery maps of a measurement: the events counted by registration, and those not counted: beyond what the
/// program reads of a wait (<see cref="WaitStatisticsProgram.EventsReadPerWakeup"/>), refused by a full map, or
/// returned by a wait that began before the probes were attached (its events array was not seen).
/// </summary>
public sealed record DeliveryMaps(IReadOnlyList<DeliveryCount> Counts, long Beyond, long NotCounted, long BegunBefore)
{
    /// <summary>The delivery maps among the maps bpftrace printed (each the JSON of one map).</summary>
    public static DeliveryMaps Read(IEnumerable<string> maps)
    {
        var counts = new List<DeliveryCount>();
        long read = 0, beyond = 0, early = 0;
        foreach (var (map, keyText, value) in BpfMaps.Entries(maps))
        {
            if (value.ValueKind != JsonValueKind.Number)
            {
                continue;
            }

            var key = keyText.Split(',');
            long number = value.GetInt64();
            switch (map)
            {
                case "@delivered" when key.Length == 5 && Int(key[0]) is int pid && Int(key[1]) is int tid && Int(key[2]) is int epollFd
                    && Data(key[3]) is ulong data && uint.TryParse(key[4].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out uint mask):
                    counts.Add(new DeliveryCount(pid, tid, epollFd, data, (EpollEvents)mask, number));
                    break;
                case "@read":
                    read += number;
                    break;
                case "@beyond":
                    beyond += number;
                    break;
                case "@early":
                    early += number;
                    break;
            }
        }

        // Every event read was counted once in @read; what @delivered lacks of it, a full map refused.
        return new DeliveryMaps(counts, beyond, Math.Max(0, read - counts.Sum(c => c.Count)), early);
    }

    private static int? Int(string text) => int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value : null;

    // bpftrace prints a u64 key as unsigned; a signed print of a large one is taken back to its bits.
    private static ulong? Data(string text) => ulong.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) ? value
        : long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long signed) ? unchecked((ulong)signed) : null;
}

/// <summary>
/// The events a measurement counted by registration, matched to the interest lists read at its start and its end:
/// per registration (by mask and thread), and per file registered in several instances (which thread received them).
/// </summary>
public static class DeliveryStatistics
{
    /// <summary>
    /// At least this many events, nearly all to one of several watchers, make a finding: fewer say nothing of a
    /// skew (a handful of connections can all go to one worker by chance).
    /// </summary>
    public const int SkewMinimumEvents = 20;

    /// <summary>The share of a file's events one watcher must have received to be named.</summary>
    public const double SkewShare = 0.9;

    /// <summary>One row per registration that delivered events, most events first.</summary>
    public static List<EpollRegistrationDeliveries> ByRegistration(
        IReadOnlyList<DeliveryCount> counts, IReadOnlyList<KnownRegistration> atStart, IReadOnlyList<KnownRegistration> atEnd, Func<int, int?, string> nameOf)
    {
        var (start, end) = (new RegistrationIndex(atStart), new RegistrationIndex(atEnd));
        var rows = new List<EpollRegistrationDeliveries>();
        foreach (var instance in counts.GroupBy(c => (c.Pid, c.EpollFd)))
        {
            var unknown = new List<IGrouping<ulong, DeliveryCount>>();
            foreach (var byData in instance.GroupBy(c => c.Data))
            {
                var matches = end.Matching(instance.Key.Pid, instance.Key.EpollFd, byData.Key);
                if (matches.Count == 0)
                {
                    matches = start.Matching(instance.Key.Pid, instance.Key.EpollFd, byData.Key);
                }

                if (matches.Count == 0)
                {
                    unknown.Add(byData);
                    continue;
                }

                var one = matches.Count == 1 ? matches[0] : null;
                rows.Add(Row(instance.Key.Pid, instance.Key.EpollFd, byData.ToList(), nameOf) with
                {
                    Fd = one?.Fd,
                    Target = one?.Target ?? $"one of fds {string.Join(", ", matches.Select(m => m.Fd))}",
                    Registered = one?.Events,
                    Data = byData.Key,
                    Inode = one?.Inode,
                    Device = one?.Device,
                    Note = one is null ? $"{matches.Count} registrations carry data 0x{byData.Key:x}: their events cannot be told apart" : null,
                });
            }

            if (unknown.Count > 0)
            {
                // Registrations added and removed between the two reads (short connections): one row for them all.
                var shown = string.Join(", ", unknown.Take(5).Select(u => $"0x{u.Key:x}")) + (unknown.Count > 5 ? ", ..." : string.Empty);
                rows.Add(Row(instance.Key.Pid, instance.Key.EpollFd, unknown.SelectMany(u => u).ToList(), nameOf) with
                {
                    Target = unknown.Count == 1 ? "(not registered at the start or the end)" : $"({unknown.Count} registrations not there at the start or the end)",
                    Data = unknown.Count == 1 ? unknown[0].Key : 0,
                    Note = $"added and removed during the measurement (data {shown}): the interest lists read at its start and end do not have them",
                });
            }
        }

        return rows.OrderByDescending(r => r.Events).ThenBy(r => r.ProcessId).ThenBy(r => r.EpollFd).ThenBy(r => r.Fd ?? int.MaxValue).ToList();
    }

    /// <summary>
    /// One row per file (inode and device) registered in more than one instance, or whose events more than one thread
    /// received: every thread that received them, then every registration that received none.
    /// </summary>
    public static List<SharedFileDeliveries> BySharedFile(
        IReadOnlyList<DeliveryCount> counts, IReadOnlyList<KnownRegistration> atStart, IReadOnlyList<KnownRegistration> atEnd, Func<int, int?, string> nameOf)
    {
        var (start, end) = (new RegistrationIndex(atStart), new RegistrationIndex(atEnd));
        var byRegistration = counts.ToLookup(c => (c.Pid, c.EpollFd, c.Data));
        // The registrations of the end, and those of the start gone by then.
        var atEndFds = atEnd.Select(e => (e.Pid, e.EpollFd, e.Fd)).ToHashSet();
        var registrations = atEnd.Concat(atStart.Where(s => !atEndFds.Contains((s.Pid, s.EpollFd, s.Fd))))
            .Where(r => r.Inode is not null).ToList();
        var files = new List<SharedFileDeliveries>();
        foreach (var watchers in SameFiles(registrations))
        {
            var received = new List<DeliveryReceiver>();
            foreach (var watcher in watchers)
            {
                // The data identifies the registration only if no other registration of the instance carries it.
                if ((end.HasInstance(watcher.Pid, watcher.EpollFd) ? end : start).Matching(watcher.Pid, watcher.EpollFd, watcher.Data).Count != 1)
                {
                    continue;
                }

                foreach (var thread in byRegistration[(watcher.Pid, watcher.EpollFd, watcher.Data)].GroupBy(c => c.Tid))
                {
                    received.Add(new DeliveryReceiver
                    {
                        ProcessId = watcher.Pid, ProcessName = nameOf(watcher.Pid, null), ThreadId = thread.Key, ThreadName = nameOf(watcher.Pid, thread.Key),
                        EpollFd = watcher.EpollFd, Fd = watcher.Fd, Events = thread.Sum(c => c.Count),
                    });
                }
            }

            int instances = watchers.Select(w => w.Instance).Distinct().Count();
            if (instances < 2 && received.Count < 2)
            {
                continue;
            }

            long total = received.Sum(r => r.Events);
            var receivers = received.OrderByDescending(r => r.Events).ThenBy(r => r.ProcessId).ThenBy(r => r.ThreadId)
                .Select(r => r with { Share = total > 0 ? (double)r.Events / total : 0 }).ToList();
            receivers.AddRange(watchers.Where(w => !received.Any(r => r.ProcessId == w.Pid && r.EpollFd == w.EpollFd)).Select(w => new DeliveryReceiver
            {
                ProcessId = w.Pid, ProcessName = nameOf(w.Pid, null), EpollFd = w.EpollFd, Fd = w.Fd,
            }));
            bool exclusive = watchers.All(w => (w.Events & EpollEvents.Exclusive) != 0);
            files.Add(new SharedFileDeliveries
            {
                Target = watchers[0].Target,
                Inode = watchers[0].Inode!.Value,
                Device = watchers[0].Device,
                Watchers = instances,
                Exclusive = exclusive,
                Events = total,
                Receivers = receivers.ToArray(),
                Finding = Skew(receivers, total, instances, exclusive),
            });
        }

        return files.OrderByDescending(f => f.Events).ToList();
    }

    /// <summary>
    /// The registrations grouped by file: by inode and device, but for anonymous files (all of one inode), which are
    /// one file only where kcmp says their open fds are; one whose fd is closed or that kcmp cannot compare is alone.
    /// </summary>
    private static IEnumerable<List<KnownRegistration>> SameFiles(IEnumerable<KnownRegistration> registrations)
    {
        foreach (var byInode in registrations.GroupBy(r => (r.Inode!.Value, r.Device)))
        {
            if (!byInode.First().Anonymous)
            {
                yield return byInode.ToList();
                continue;
            }

            var files = new List<List<KnownRegistration>>();
            foreach (var registration in byInode)
            {
                var same = registration.Open
                    ? files.FirstOrDefault(f => f[0].Open && FileIdentity.SameFile(f[0].Pid, f[0].Fd, registration.Pid, registration.Fd) == true)
                    : null;
                if (same is null)
                {
                    files.Add(new List<KnownRegistration> { registration });
                }
                else
                {
                    same.Add(registration);
                }
            }

            foreach (var file in files)
            {
                yield return file;
            }
        }
    }

    /// <summary>
    /// One of several watchers receiving nearly all of a file's events. With EPOLLEXCLUSIVE the kernel wakes the first
    /// idle waiter in the file's queue, so a server that keeps up sends most connections to one worker (puma#3934).
    /// </summary>
    public static string? Skew(IReadOnlyList<DeliveryReceiver> receivers, long total, int instances, bool exclusive)
    {
        var top = receivers.FirstOrDefault();
        if (instances < 2 || total < SkewMinimumEvents || top is null || top.Events < total * SkewShare)
        {
            return null;
        }

        string why = exclusive
            ? ": with EPOLLEXCLUSIVE the kernel wakes the first idle waiter in the file's queue, so while that worker keeps up it gets nearly everything"
            : string.Empty;
        return $"one of {instances} watchers, {top.ProcessId} ({top.ProcessName}) thread {top.ThreadId}, received {top.Events} of {total} events ({(double)top.Events / total:P0}){why}";
    }

    /// <summary>Registrations by the data they carry in their instance, looked up once each rather than scanned.</summary>
    private sealed class RegistrationIndex
    {
        private readonly ILookup<(int Pid, int EpollFd, ulong Data), KnownRegistration> _byData;
        private readonly HashSet<(int Pid, int EpollFd)> _instances;

        public RegistrationIndex(IEnumerable<KnownRegistration> registrations)
        {
            _byData = registrations.ToLookup(r => (r.Pid, r.EpollFd, r.Data));
            _instances = _byData.SelectMany(g => g).Select(r => (r.Pid, r.EpollFd)).ToHashSet();
        }

        public bool HasInstance(int pid, int epollFd) => _instances.Contains((pid, epollFd));

        public List<KnownRegistration> Matching(int pid, int epollFd, ulong data) => _byData[(pid, epollFd, data)].ToList();
    }

    private static EpollRegistrationDeliveries Row(int pid, int epollFd, List<DeliveryCount> counts, Func<int, int?, string> nameOf)
    {
        long total = counts.Sum(c => c.Count);
        return new EpollRegistrationDeliveries
        {
            ProcessId = pid,
            ProcessName = nameOf(pid, null),
            EpollFd = epollFd,
            Events = total,
            ByMask = counts.GroupBy(c => c.Mask).Select(m => new DeliveredMask { Events = m.Key, Count = m.Sum(c => c.Count) })
                .OrderByDescending(m => m.Count).ToArray(),
            ByThread = counts.GroupBy(c => c.Tid).Select(t => new DeliveryReceiver
            {
                ProcessId = pid, ProcessName = nameOf(pid, null), ThreadId = t.Key, ThreadName = nameOf(pid, t.Key), EpollFd = epollFd,
                Events = t.Sum(c => c.Count), Share = total > 0 ? (double)t.Sum(c => c.Count) / total : 0,
            }).OrderByDescending(t => t.Events).ToArray(),
        };
    }
}
