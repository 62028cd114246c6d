using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Tracing.Exact;

namespace EpollTools.Commands;

/// <summary>
/// Measure-MultiplexerWait: the epoll, poll and select waits of processes over -Duration, aggregated in the kernel
/// through bpftrace: per thread, call and instance, how many and how they returned, and log2 histograms of events per
/// wakeup, time blocked and time between a return and the next wait; a loop that polls instead of sleeping is named.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "MultiplexerWait", DefaultParameterSetName = IdSet)]
[OutputType(typeof(MultiplexerWaitStatistics))]
public sealed class MeasureMultiplexerWaitCommand : ProcessSelectionCommandBase
{
    private readonly List<int> _ids = new();

    /// <summary>How long to measure: milliseconds or a TimeSpan.</summary>
    [Parameter]
    [TimeoutTransformation]
    [ValidateRange(100, int.MaxValue)]
    public int Duration { get; set; } = 5000;

    protected override void ProcessRecord() => _ids.AddRange(Id ?? Array.Empty<int>());

    protected override void EndProcessing()
    {
        if (NoProcessCameDownThePipeline(_ids.Count))
        {
            return;
        }

        var pids = Mode == ProcessSelectionMode.Ids ? _ids.Distinct().ToList() : SelectedPids(Array.Empty<int>());
        if (pids.Count == 0)
        {
            return;
        }

        if (pids.Count > EpollCallProgram.MaxProcesses)
        {
            ThrowTerminatingError(ErrorRecords.Usage("MeasurementTooManyProcesses", ErrorCategory.LimitsExceeded, pids.Count,
                $"Measure-MultiplexerWait measures at most {EpollCallProgram.MaxProcesses} processes at once; {pids.Count} were selected.",
                "Name the processes to measure (-Id, or a narrower -Name)."));
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        BpfTrace bpf;
        try
        {
            bpf = BpfTrace.StartAttached(WaitStatisticsProgram.For(pids, Duration, Environment.ProcessId), EpollCallProgram.AttachedLine, StopToken);
        }
        catch (BpfTraceException e)
        {
            ThrowTerminatingError(ErrorRecords.ForBpfTrace(e, "Get-MultiplexerWait shows the waits of the moment without it"));
            return;
        }
        catch (OperationCanceledException)
        {
            return; // Ctrl+C while bpftrace started
        }

        using (bpf)
        {
            WriteInformation(new HostInformationMessage
            {
                Message = $"Measuring the multiplexing waits of {pids.Count} process(es) for {Duration} ms; bpftrace attached in {clock.ElapsedMilliseconds} ms.",
            }, new[] { "PSHOST" });
            if (!bpf.WaitEnded(TimeSpan.FromMilliseconds(Duration) + TimeSpan.FromSeconds(30), StopToken))
            {
                if (!Stopping)
                {
                    WriteWarning($"bpftrace did not end after {Duration} ms: no statistics. {bpf.Said()}");
                }

                return;
            }

            var statistics = WaitStatisticsProgram.Read(bpf.Maps, Duration / 1000.0, NameOf);
            // A thread that waited the whole time returned no wait to count: it is listed too, as waiting.
            foreach (int pid in pids)
            {
                foreach (var (tid, epollFd, call) in Core.Waits.EpollWaiters.MultiplexerWaitsOf(pid))
                {
                    if (!statistics.Any(s => s.ThreadId == tid))
                    {
                        statistics.Add(WaitStatisticsProgram.StillWaiting(pid, tid, epollFd, call.Name, Duration / 1000.0, NameOf));
                    }
                }
            }

            if (statistics.Count == 0)
            {
                WriteWarning($"No thread of the process(es) returned from an epoll, poll or select wait in {Duration} ms, and none is in one now.");
            }

            WriteObject(statistics.OrderBy(s => s.ProcessId).ThenBy(s => s.ThreadId), enumerateCollection: true); // stable: each thread's calls stay in the order Read gives
            if (bpf.Lost > 0)
            {
                WriteWarning($"The kernel dropped {bpf.Lost} events (bpftrace's buffer was full).");
            }
        }
    }

    private static string NameOf(int pid, int? tid)
        => (tid is int thread ? TaskFiles.Read(pid, thread, "comm")?.TrimEnd('\n') : ProcFs.ReadComm(pid)) ?? "?";
}
