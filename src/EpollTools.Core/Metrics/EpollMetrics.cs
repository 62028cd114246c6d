using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Metrics;

/// <summary>
/// What EpollTools finds on a host, as Prometheus metric families: the interest lists (registrations per instance,
/// stale ones and diagnoses per process), the threads in multiplexing waits (per call, the longest wait, their
/// diagnoses, confirmed by a second look), the scan's own duration and the processes it could not read. Labels stay
/// bounded: pid and comm per process, the epoll fd per instance, the call, the diagnosis kind; never a file or a
/// registration.
/// </summary>
public static class EpollMetrics
{
    /// <summary>Reads <paramref name="pids"/> (each read as -All reads it: one that cannot be read is counted, not an error).</summary>
    public static IReadOnlyList<MetricFamily> Collect(IReadOnlyList<int> pids, Action<string>? verbose = null)
    {
        var clock = Stopwatch.StartNew();
        var registrations = new SortedDictionary<(int Pid, string Comm, int EpollFd), int>();
        var stale = new SortedDictionary<(int Pid, string Comm), int>();
        var diagnoses = new SortedDictionary<(int Pid, string Comm, string Kind), int>();
        var unreadable = new HashSet<int>();

        var interest = new InterestRequest { Processes = pids.Select(pid => (pid, (int?)null)).ToList(), WholeHost = true };
        foreach (var result in new EpollInterestQuery(verbose).Run(interest))
        {
            switch (result)
            {
                case InterestResult.Row(var row, _):
                    var key = (row.ProcessId, row.ProcessName);
                    registrations[(row.ProcessId, row.ProcessName, row.EpollFd)] = registrations.GetValueOrDefault((row.ProcessId, row.ProcessName, row.EpollFd)) + 1;
                    stale[key] = stale.GetValueOrDefault(key) + (row.State == RegistrationState.Stale ? 1 : 0);
                    Count(diagnoses, row.ProcessId, row.ProcessName, row.Diagnoses);
                    break;
                case InterestResult.Refused(int pid, ProcessAccessDeniedException):
                    unreadable.Add(pid);
                    break;
            }
        }

        var waiting = new SortedDictionary<(int Pid, string Comm, string Call), int>();
        var longest = new SortedDictionary<(int Pid, string Comm), double>();
        var waits = new WaitRequest { Processes = pids, SettleMilliseconds = DiagnosisConfirmation.DefaultSettleMilliseconds };
        foreach (var result in new MultiplexerWaitQuery().Run(waits))
        {
            switch (result)
            {
                case WaitResult.Wait(var wait) when wait.IsWaiting:
                    var key = (wait.ProcessId, wait.ProcessName);
                    waiting[(wait.ProcessId, wait.ProcessName, wait.Call)] = waiting.GetValueOrDefault((wait.ProcessId, wait.ProcessName, wait.Call)) + 1;
                    longest[key] = Math.Max(longest.GetValueOrDefault(key), wait.WaitingFor?.TotalSeconds ?? 0);
                    Count(diagnoses, wait.ProcessId, wait.ProcessName, wait.Diagnoses);
                    break;
                case WaitResult.Wait(var held):
                    Count(diagnoses, held.ProcessId, held.ProcessName, held.Diagnoses);
                    break;
                case WaitResult.Refused(int pid, ProcessAccessDeniedException):
                    unreadable.Add(pid);
                    break;
            }
        }

        return new[]
        {
            new MetricFamily("epolltools_registrations", "Registrations in each epoll instance, by the process and epoll fd that hold it.",
                registrations.Select(r => Sample(r.Value, ("comm", r.Key.Comm), ("epoll_fd", Text(r.Key.EpollFd)), ("pid", Text(r.Key.Pid)))).ToList()),
            new MetricFamily("epolltools_stale_registrations", "Registrations whose fd number is closed or reused in the process (the file lives on elsewhere).",
                stale.Select(s => Sample(s.Value, ("comm", s.Key.Comm), ("pid", Text(s.Key.Pid)))).ToList()),
            new MetricFamily("epolltools_diagnoses", "Findings by kind per process (one-shot never re-armed, closed fd still registered, empty interest list...).",
                diagnoses.Select(d => Sample(d.Value, ("comm", d.Key.Comm), ("kind", d.Key.Kind), ("pid", Text(d.Key.Pid)))).ToList()),
            new MetricFamily("epolltools_threads_waiting", "Threads blocked in a multiplexing call an event can end, by call.",
                waiting.Select(w => Sample(w.Value, ("call", w.Key.Call), ("comm", w.Key.Comm), ("pid", Text(w.Key.Pid)))).ToList()),
            new MetricFamily("epolltools_longest_wait_seconds", "How long the longest-waiting thread of the process has been in its multiplexing call (the scheduler's last run of it).",
                longest.Select(l => Sample(Math.Round(l.Value, 3), ("comm", l.Key.Comm), ("pid", Text(l.Key.Pid)))).ToList()),
            new MetricFamily("epolltools_unreadable_processes", "Processes whose fds or threads this scan was not allowed to read.",
                new[] { Sample(unreadable.Count) }),
            new MetricFamily("epolltools_scan_duration_seconds", "How long this scan took, the settle interval of its confirmations included.",
                new[] { Sample(Math.Round(clock.Elapsed.TotalSeconds, 3)) }),
        };
    }

    private static void Count(SortedDictionary<(int, string, string), int> counts, int pid, string comm, IEnumerable<Diagnosis> found)
    {
        foreach (var diagnosis in found)
        {
            var key = (pid, comm, diagnosis.Kind.ToString());
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>A sample; labels are given sorted by name, as node_exporter writes them back.</summary>
    private static MetricSample Sample(double value, params (string Name, string Value)[] labels) => new(labels, value);

    private static string Text(int number) => number.ToString(CultureInfo.InvariantCulture);
}
