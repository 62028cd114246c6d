using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// Measure-EpollWait's bpftrace program and what it prints: the epoll waits of some processes aggregated in the
/// kernel per thread (counts, and log2 histograms of the events each wait returned, the time it blocked, and the time
/// from a return to the next wait), for a duration after which the program exits and bpftrace prints its maps.
/// </summary>
public static class EpollWaitStatisticsProgram
{
    /// <param name="sentinelPid">The process that waits for the probes to be attached (see <see cref="EpollCallProgram.AttachProbe"/>).</param>
    public static string For(IReadOnlyCollection<int> pids, int durationMilliseconds, int sentinelPid)
    {
        string only = EpollCallProgram.OnlyThese(pids);
        // A wait's timeout as a sign: -1 infinite, 0 zero (a poll), 1 finite. epoll_pwait2 takes a timespec (NULL: infinite).
        const string Enter = "  @start[tid] = nsecs; @epfd[pid, tid] = args->epfd;\n" +
            "  if (@last_return[tid]) { @handler_us[pid, tid] = hist((nsecs - @last_return[tid]) / 1000); }\n";
        return
            $"tracepoint:syscalls:sys_enter_epoll_wait,tracepoint:syscalls:sys_enter_epoll_pwait /{only}/ {{\n" +
            "  @timeout[tid] = args->timeout < 0 ? -1 : (args->timeout == 0 ? 0 : 1);\n" + Enter + "}\n" +
            $"tracepoint:syscalls:sys_enter_epoll_pwait2 /{only}/ {{\n" +
            "  $t = (uint64)args->timeout;\n" +
            "  @timeout[tid] = $t == 0 ? -1 : ((*(int64 *)$t == 0 && *(int64 *)($t + 8) == 0) ? 0 : 1);\n" + Enter + "}\n" +
            $"tracepoint:syscalls:sys_exit_epoll_wait,tracepoint:syscalls:sys_exit_epoll_pwait,tracepoint:syscalls:sys_exit_epoll_pwait2 /({only}) && @start[tid]/ {{\n" +
            "  $ret = (int64)args->ret;\n" +
            "  @calls[pid, tid] = count();\n" +
            "  if ($ret > 0) { @with_events[pid, tid] = count(); }\n" +
            "  if ($ret == 0 && @timeout[tid] != 0) { @timed_out[pid, tid] = count(); }\n" +
            "  if (@timeout[tid] == 0) { @zero_timeout[pid, tid] = count(); }\n" +
            "  if ($ret < 0) { @errors[pid, tid] = count(); }\n" +
            $"  if ($ret == -{Native.Errno.EINTR}) {{ @interrupted[pid, tid] = count(); }}\n" +
            "  if ($ret >= 0) { @events[pid, tid] = hist($ret); }\n" +
            "  @blocked_us[pid, tid] = hist((nsecs - @start[tid]) / 1000);\n" +
            "  @last_return[tid] = nsecs;\n" +
            "  delete(@start[tid]); delete(@timeout[tid]);\n}\n" +
            $"interval:ms:{durationMilliseconds} {{ exit(); }}\n" +
            "END { clear(@start); clear(@timeout); clear(@last_return); }\n" +
            EpollCallProgram.AttachProbe(sentinelPid);
    }

    /// <summary>The per-thread statistics from the maps bpftrace printed (each the JSON of one map or histogram).</summary>
    /// <param name="nameOf">A process's or thread's name.</param>
    public static List<EpollWaitStatistics> Read(IEnumerable<string> maps, double seconds, Func<int, int?, string> nameOf)
    {
        var counts = new Dictionary<string, Dictionary<(int Pid, int Tid), long>>();
        var histograms = new Dictionary<string, Dictionary<(int Pid, int Tid), Log2Histogram>>();
        foreach (string json in maps)
        {
            using var document = JsonDocument.Parse(json);
            foreach (var map in document.RootElement.EnumerateObject())
            {
                if (map.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var entry in map.Value.EnumerateObject())
                {
                    if (Key(entry.Name) is not { } key)
                    {
                        continue;
                    }

                    if (entry.Value.ValueKind == JsonValueKind.Number)
                    {
                        Of(counts, map.Name)[key] = entry.Value.GetInt64();
                    }
                    else if (entry.Value.ValueKind == JsonValueKind.Array)
                    {
                        Of(histograms, map.Name)[key] = new Log2Histogram(entry.Value.EnumerateArray().Select(b =>
                            new HistogramBucket(Bound(b, "min"), Bound(b, "max"), b.GetProperty("count").GetInt64())));
                    }
                }
            }
        }

        long Count(string name, (int, int) key) => counts.TryGetValue(name, out var map) && map.TryGetValue(key, out long value) ? value : 0;
        Log2Histogram Histogram(string name, (int, int) key) => histograms.TryGetValue(name, out var map) && map.TryGetValue(key, out var value) ? value : new Log2Histogram(Enumerable.Empty<HistogramBucket>());
        return Of(counts, "@calls").Keys.OrderBy(k => k.Item1).ThenBy(k => k.Item2).Select(key =>
        {
            long calls = Count("@calls", key), zero = Count("@zero_timeout", key);
            return new EpollWaitStatistics
            {
                ProcessId = key.Item1,
                ProcessName = nameOf(key.Item1, null),
                ThreadId = key.Item2,
                ThreadName = nameOf(key.Item1, key.Item2),
                EpollFd = counts.TryGetValue("@epfd", out var fds) && fds.TryGetValue(key, out long fd) ? (int)fd : null,
                Seconds = seconds,
                Calls = calls,
                WithEvents = Count("@with_events", key),
                TimedOut = Count("@timed_out", key),
                ZeroTimeout = zero,
                Errors = Count("@errors", key),
                Interrupted = Count("@interrupted", key),
                EventsPerWakeup = Histogram("@events", key),
                BlockedMicroseconds = Histogram("@blocked_us", key),
                HandlerMicroseconds = Histogram("@handler_us", key),
                Finding = BusyPolling(calls, zero, seconds),
            };
        }).ToList();
    }

    /// <summary>A thread that was in an epoll wait when the measurement ended and returned from none during it.</summary>
    public static EpollWaitStatistics StillWaiting(int pid, int tid, int epollFd, string call, double seconds, Func<int, int?, string> nameOf) => new()
    {
        ProcessId = pid,
        ProcessName = nameOf(pid, null),
        ThreadId = tid,
        ThreadName = nameOf(pid, tid),
        EpollFd = epollFd,
        Seconds = seconds,
        Finding = $"in {call} when the measurement ended, and no wait of it returned during it: no event came",
    };

    /// <summary>
    /// A loop that polls instead of sleeping: most of its waits have a zero timeout, hundreds a second, so it burns a
    /// CPU to find nothing to do (haproxy#2984, netdata#20273 were this).
    /// </summary>
    public static string? BusyPolling(long calls, long zeroTimeout, double seconds)
    {
        double perSecond = seconds > 0 ? zeroTimeout / seconds : 0;
        return calls > 0 && zeroTimeout * 10 >= calls * 9 && perSecond >= 100
            ? $"busy polling: {zeroTimeout} of {calls} waits had a zero timeout ({perSecond:0} a second): the loop spins instead of sleeping until an event"
            : null;
    }

    private static (int Pid, int Tid)? Key(string text)
    {
        var parts = text.Split(',');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            && int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int tid) ? (pid, tid) : null;
    }

    private static long Bound(JsonElement bucket, string name) => bucket.TryGetProperty(name, out var value) && value.TryGetInt64(out long bound) ? bound : 0;

    private static Dictionary<(int, int), T> Of<T>(Dictionary<string, Dictionary<(int, int), T>> maps, string name)
    {
        if (!maps.TryGetValue(name, out var map))
        {
            map = new Dictionary<(int, int), T>();
            maps[name] = map;
        }

        return map;
    }
}
