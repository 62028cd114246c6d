using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// Measure-MultiplexerWait's bpftrace program and what it prints: the multiplexing waits of some processes (epoll_wait,
/// epoll_pwait, epoll_pwait2, poll, ppoll, select, pselect6) aggregated in the kernel per thread, call and instance
/// (counts, and log2 histograms of the events each wait returned, the time it blocked, and the time from a return to
/// the next wait), for a duration after which the program exits and bpftrace prints its maps.
/// </summary>
public static class WaitStatisticsProgram
{
    /// <summary>Each call, what its enter probe keeps as the instance (-1: none), and its timeout's sign.</summary>
    private static readonly (MultiplexerCall Call, string Fd, string Timeout)[] Calls =
    {
        (MultiplexerCall.EpollWait, "args->epfd", TimeoutSign.OfMilliseconds("args->timeout")),
        (MultiplexerCall.EpollPwait, "args->epfd", TimeoutSign.OfMilliseconds("args->timeout")),
        (MultiplexerCall.EpollPwait2, "args->epfd", TimeoutSign.OfPointer("args->timeout")),
        (MultiplexerCall.Poll, "-1", TimeoutSign.OfMilliseconds("args->timeout_msecs")),
        (MultiplexerCall.Ppoll, "-1", TimeoutSign.OfPointer("args->tsp")),
        (MultiplexerCall.Select, "-1", TimeoutSign.OfPointer("args->tvp")),
        (MultiplexerCall.Pselect6, "-1", TimeoutSign.OfPointer("args->tsp")),
    };

    /// <summary>
    /// How many of the events one epoll wait returned are counted by registration (bpftrace unrolls the loop: a
    /// constant); the rest are counted as beyond it.
    /// </summary>
    public const int EventsReadPerWakeup = 16;

    /// <summary>How many keys a bpftrace map holds (its default BPFTRACE_MAP_KEYS_MAX); an update beyond is refused.</summary>
    public const int MapKeys = 4096;

    /// <param name="sentinelPid">The process that waits for the probes to be attached (see <see cref="EpollCallProgram.AttachProbe"/>).</param>
    /// <param name="deliveries">
    /// To count the events the epoll waits return by data and mask (and thread and instance): struct epoll_event's
    /// layout. Null: not counted (each returned event is then not read at all, which keeps the probes cheaper).
    /// </param>
    public static string For(IReadOnlyCollection<int> pids, int durationMilliseconds, int sentinelPid, EpollEventLayout? deliveries = null)
    {
        string only = EpollCallProgram.OnlyThese(pids);
        var program = new StringBuilder();
        // Every map operation costs the traced call (about half a microsecond each on a virtual machine): a wait's
        // state is one tuple (start, call, instance, timeout sign), its outcome one count, and nothing is deleted (the
        // next wait of the thread overwrites it; a wait begun before the probes has none, its start reads 0).
        foreach (var (call, fd, timeout) in Calls)
        {
            // The handler time (the previous return to this wait) is counted under this wait's call and instance.
            string keepEvents = deliveries is not null && MultiplexerCallDecoder.IsEpoll(call) ? "\n  @array[tid] = (uint64)args->events;" : string.Empty;
            program.Append($"tracepoint:syscalls:sys_enter_{MultiplexerCallDecoder.KernelName(call)} /{only}/ {{\n" +
                $"  @wait[tid] = (nsecs, {(int)call}, (int64){fd}, {timeout});{keepEvents}\n" +
                $"  $last = @last_return[tid];\n  if ($last) {{ @handler_us[pid, tid, {(int)call}, (int64){fd}] = hist((nsecs - $last) / 1000); }}\n}}\n");
        }

        string counted =
            "  $c = $w.1; $f = $w.2;\n" +
            $"  $outcome = $ret > 0 ? {(int)WaitOutcome.Events} : ($ret == 0 ? {(int)WaitOutcome.Nothing} : ($ret == -{Errno.EINTR} ? {(int)WaitOutcome.Interrupted} : {(int)WaitOutcome.Failed}));\n" +
            $"  @outcome[pid, tid, $c, $f, $outcome + ($w.3 == 0 ? {(int)WaitOutcome.ZeroTimeout} : 0)] = count();\n" +
            "  if ($ret >= 0) { @events[pid, tid, $c, $f] = hist($ret); }\n" +
            "  @blocked_us[pid, tid, $c, $f] = hist((nsecs - $w.0) / 1000);\n" +
            "  @last_return[tid] = nsecs;\n";
        string Exits(bool epoll) => string.Join(",", Calls.Where(c => MultiplexerCallDecoder.IsEpoll(c.Call) == epoll).Select(c => $"tracepoint:syscalls:sys_exit_{MultiplexerCallDecoder.KernelName(c.Call)}"));
        const string Begin = "  $ret = (int64)args->ret; $w = @wait[tid];\n";
        if (deliveries is EpollEventLayout layout)
        {
            // A wait that began before the probes were attached returns without its arguments: its events are
            // counted as such, not read. (In one probe with the rest: two probes on one tracepoint run in an order
            // the program does not choose.)
            program.Append($"{Exits(epoll: true)} /{only}/ {{\n" + Begin + "  if ($w.0) {\n" +
                counted + Deliveries(layout) + "  } else if ($ret > 0) {\n  @early[pid] = sum($ret);\n  }\n}\n");
            program.Append($"{Exits(epoll: false)} /{only}/ {{\n" + Begin + "  if ($w.0) {\n" + counted + "  }\n}\n");
        }
        else
        {
            program.Append($"{Exits(epoll: true)},{Exits(epoll: false)} /{only}/ {{\n" + Begin + "  if ($w.0) {\n" + counted + "  }\n}\n");
        }

        program.Append($"interval:ms:{durationMilliseconds} {{ exit(); }}\n");
        program.Append("END { clear(@wait); clear(@last_return);" + (deliveries is null ? string.Empty : " clear(@array);") + " }\n");
        program.Append(EpollCallProgram.AttachProbe(sentinelPid));
        return program.ToString();
    }

    /// <summary>How a wait returned, as the program counts it: one count a wait, with <see cref="ZeroTimeout"/> added for a poll.</summary>
    private enum WaitOutcome
    {
        Events = 1,
        Nothing = 2,
        Interrupted = 3,
        Failed = 4,
        ZeroTimeout = 8,
    }

    /// <summary>
    /// The exit probe's part that counts an epoll wait's events by data and mask (@delivered), each event read once
    /// (@read: what a full map refused is the difference), and those beyond <see cref="EventsReadPerWakeup"/> (@beyond).
    /// </summary>
    private static string Deliveries(EpollEventLayout layout)
    {
        var text = new StringBuilder();
        text.Append("  if ($ret > 0) {\n    $a = @array[tid]; $i = (int64)0;\n");
        text.Append($"    unroll({EventsReadPerWakeup}) {{\n      if ($i < $ret) {{\n");
        text.Append($"        $at = $a + (uint64)($i * {layout.Size});\n");
        text.Append($"        @delivered[pid, tid, $f, *(uint64 *)($at + {layout.DataOffset}), *(uint32 *)$at] = count(); @read[pid] = count();\n");
        text.Append("      }\n      $i++;\n    }\n");
        text.Append($"    if ($ret > {EventsReadPerWakeup}) {{ @beyond[pid] = sum($ret - {EventsReadPerWakeup}); }}\n  }}\n");
        return text.ToString();
    }

    /// <summary>The statistics per thread, call and instance from the maps bpftrace printed (each the JSON of one map or histogram).</summary>
    /// <param name="nameOf">A process's or thread's name.</param>
    public static List<MultiplexerWaitStatistics> Read(IEnumerable<string> maps, double seconds, Func<int, int?, string> nameOf)
    {
        var outcomes = new Dictionary<WaitKey, Dictionary<int, long>>();
        var histograms = new Dictionary<string, Dictionary<WaitKey, Log2Histogram>>();
        foreach (var (map, keyText, value) in BpfMaps.Entries(maps))
        {
            if (map == "@outcome" && value.ValueKind == JsonValueKind.Number && Key(keyText, out int outcome) is { } counted)
            {
                if (!outcomes.TryGetValue(counted, out var byOutcome))
                {
                    byOutcome = new Dictionary<int, long>();
                    outcomes[counted] = byOutcome;
                }

                byOutcome[outcome] = value.GetInt64();
            }
            else if (value.ValueKind == JsonValueKind.Array && Key(keyText, out _) is { } key)
            {
                if (!histograms.TryGetValue(map, out var ofMap))
                {
                    ofMap = new Dictionary<WaitKey, Log2Histogram>();
                    histograms[map] = ofMap;
                }

                ofMap[key] = new Log2Histogram(value.EnumerateArray().Select(b =>
                    new HistogramBucket(Bound(b, "min"), Bound(b, "max"), b.GetProperty("count").GetInt64())));
            }
        }

        Log2Histogram Histogram(string name, WaitKey key) => histograms.TryGetValue(name, out var map) && map.TryGetValue(key, out var value) ? value : new Log2Histogram(Enumerable.Empty<HistogramBucket>());
        return outcomes.OrderBy(o => o.Key.Pid).ThenBy(o => o.Key.Tid).ThenBy(o => o.Key.Call).ThenBy(o => o.Key.Fd).Select(entry =>
        {
            var (key, byOutcome) = (entry.Key, entry.Value);
            long Sum(Func<int, bool> which) => byOutcome.Where(o => which(o.Key)).Sum(o => o.Value);
            const int Zero = (int)WaitOutcome.ZeroTimeout;
            long calls = Sum(_ => true), zero = Sum(o => (o & Zero) != 0);
            return new MultiplexerWaitStatistics
            {
                ProcessId = key.Pid,
                ProcessName = nameOf(key.Pid, null),
                ThreadId = key.Tid,
                ThreadName = nameOf(key.Pid, key.Tid),
                Call = MultiplexerCallDecoder.KernelName(key.Call),
                EpollFd = key.Fd >= 0 ? key.Fd : null,
                Seconds = seconds,
                Calls = calls,
                WithEvents = Sum(o => (o & ~Zero) == (int)WaitOutcome.Events),
                TimedOut = Sum(o => o == (int)WaitOutcome.Nothing), // a finite timeout that passed: not a poll
                ZeroTimeout = zero,
                Errors = Sum(o => (o & ~Zero) is (int)WaitOutcome.Interrupted or (int)WaitOutcome.Failed),
                Interrupted = Sum(o => (o & ~Zero) == (int)WaitOutcome.Interrupted),
                EventsPerWakeup = Histogram("@events", key),
                BlockedMicroseconds = Histogram("@blocked_us", key),
                HandlerMicroseconds = Histogram("@handler_us", key),
                Finding = BusyPolling(calls, zero, seconds),
            };
        }).ToList();
    }

    /// <summary>
    /// A thread that was in a wait when the measurement ended and returned from none during it; <paramref name="held"/>
    /// says what held it there (a stop signal, a tracer, a frozen cgroup), when something did.
    /// </summary>
    public static MultiplexerWaitStatistics StillWaiting(int pid, int tid, int? epollFd, string call, double seconds, Func<int, int?, string> nameOf, string? held = null) => new()
    {
        Call = call,
        ProcessId = pid,
        ProcessName = nameOf(pid, null),
        ThreadId = tid,
        ThreadName = nameOf(pid, tid),
        EpollFd = epollFd,
        Seconds = seconds,
        Finding = held is null
            ? $"in {call} when the measurement ended, and no wait of it returned during it: no event came"
            : $"{held}, in {call}: no wait could return during the measurement, whatever was ready",
    };

    /// <summary>
    /// A loop that polls instead of sleeping: most of its waits have a zero timeout, hundreds a second, so it burns a
    /// CPU to find nothing to do (haproxy#2984, netdata#20273 were this).
    /// </summary>
    public static string? BusyPolling(long calls, long zeroTimeout, double seconds)
    {
        double perSecond = seconds > 0 ? zeroTimeout / seconds : 0;
        return calls > 0 && zeroTimeout * 10 >= calls * 9 && perSecond >= 100
            ? $"busy polling: {zeroTimeout} of {calls} waits had a zero timeout ({perSecond:0} a second): the loop polls instead of waiting for an event"
            : null;
    }

    /// <summary>A map's key: the thread, the call as its <see cref="MultiplexerCall"/> number, the instance (-1: none).</summary>
    private readonly record struct WaitKey(int Pid, int Tid, MultiplexerCall Call, int Fd);

    /// <summary>"pid,tid,call,fd", or with <paramref name="outcome"/> after them (the outcome map's key).</summary>
    private static WaitKey? Key(string text, out int outcome)
    {
        outcome = 0;
        var parts = text.Split(',');
        if (parts.Length is not (4 or 5))
        {
            return null;
        }

        var numbers = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return null;
            }
        }

        outcome = parts.Length == 5 ? numbers[4] : 0;
        return Enum.IsDefined((MultiplexerCall)numbers[2]) ? new WaitKey(numbers[0], numbers[1], (MultiplexerCall)numbers[2], numbers[3]) : null;
    }

    private static long Bound(JsonElement bucket, string name) => bucket.TryGetProperty(name, out var value) && value.TryGetInt64(out long bound) ? bound : 0;
}
