using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Tracing.Exact;

namespace EpollTools.Commands;

/// <summary>What Measure-MultiplexerWait writes a row for.</summary>
public enum WaitMeasure
{
    /// <summary>Each thread's waits, by call and instance (MultiplexerWaitStatistics).</summary>
    Thread,

    /// <summary>The events each epoll registration delivered, by mask and thread (EpollRegistrationDeliveries).</summary>
    Registration,

    /// <summary>Each file registered in several instances: which threads received its events (SharedFileDeliveries).</summary>
    SharedFile,
}

/// <summary>
/// Measure-MultiplexerWait: the epoll, poll and select waits of processes over -Duration, aggregated in the kernel
/// through bpftrace: per thread, call and instance, how many and how they returned, and log2 histograms of events per
/// wakeup, time blocked and time between a return and the next wait; a loop that polls instead of sleeping is named.
/// With -By Registration or SharedFile, the events the epoll waits returned, counted by registration.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "MultiplexerWait", DefaultParameterSetName = IdSet)]
[OutputType(typeof(MultiplexerWaitStatistics), typeof(EpollRegistrationDeliveries), typeof(SharedFileDeliveries))]
public sealed class MeasureMultiplexerWaitCommand : ProcessSelectionCommandBase
{
    private readonly List<int> _ids = new();

    /// <summary>How long to measure: milliseconds or a TimeSpan.</summary>
    [Parameter]
    [TimeoutTransformation]
    [ValidateRange(100, int.MaxValue)]
    public int Duration { get; set; } = 5000;

    /// <summary>A row per thread (the default), per epoll registration, or per file several instances watch.</summary>
    [Parameter]
    public WaitMeasure By { get; set; } = WaitMeasure.Thread;

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
            var layout = By == WaitMeasure.Thread ? (Core.Native.EpollEventLayout?)null : Core.Native.EpollEventLayout.Current;
            bpf = BpfTrace.StartAttached(WaitStatisticsProgram.For(pids, Duration, Environment.ProcessId, layout), EpollCallProgram.AttachedLine, StopToken);
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
            // Registrations are known by the data their events carry: read the interest lists at both ends, so that
            // one removed before the end is still known, and one added after the start too.
            var atStart = By == WaitMeasure.Thread ? new List<KnownRegistration>() : RegistrationSnapshot.Read(pids);
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

            if (By == WaitMeasure.Thread)
            {
                WriteThreads(pids, WaitStatisticsProgram.Read(bpf.Maps, Duration / 1000.0, NameOf));
            }
            else
            {
                WriteDeliveries(DeliveryMaps.Read(bpf.Maps), atStart, RegistrationSnapshot.Read(pids));
            }

            if (bpf.Lost > 0)
            {
                WriteWarning($"The kernel dropped {bpf.Lost} events (bpftrace's buffer was full).");
            }
        }
    }

    private void WriteThreads(List<int> pids, List<MultiplexerWaitStatistics> statistics)
    {
        // A thread that waited the whole time returned no wait to count: it is listed too, as waiting, or as held
        // there (stopped, traced, frozen: it could not return).
        foreach (int pid in pids)
        {
            foreach (var (tid, epollFd, call, condition) in Core.Waits.EpollWaiters.MultiplexerWaitsWithCondition(pid))
            {
                if (!statistics.Any(s => s.ThreadId == tid))
                {
                    statistics.Add(WaitStatisticsProgram.StillWaiting(pid, tid, epollFd, call.Name, Duration / 1000.0, NameOf, condition.CanBeWoken ? null : condition.Cause));
                }
            }
        }

        if (statistics.Count == 0)
        {
            WriteWarning($"No thread of the process(es) returned from an epoll, poll or select wait in {Duration} ms, and none is in one now.");
        }

        WriteObject(statistics.OrderBy(s => s.ProcessId).ThenBy(s => s.ThreadId), enumerateCollection: true); // stable: each thread's calls stay in the order Read gives
    }

    private void WriteDeliveries(DeliveryMaps maps, List<KnownRegistration> atStart, List<KnownRegistration> atEnd)
    {
        if (By == WaitMeasure.Registration)
        {
            var rows = DeliveryStatistics.ByRegistration(maps.Counts, atStart, atEnd, NameOf);
            if (rows.Count == 0)
            {
                WriteWarning($"No epoll wait of the process(es) returned an event in {Duration} ms.");
            }

            WriteObject(rows, enumerateCollection: true);
        }
        else
        {
            var files = DeliveryStatistics.BySharedFile(maps.Counts, atStart, atEnd, NameOf);
            if (files.Count == 0)
            {
                WriteWarning("No file is registered in more than one epoll instance of the process(es), and no file's events reached more than one thread: nothing is shared.");
            }

            WriteObject(files, enumerateCollection: true);
        }

        if (maps.Beyond > 0)
        {
            WriteWarning($"{maps.Beyond} events were not counted by registration: they came in waits that returned more than {WaitStatisticsProgram.EventsReadPerWakeup} events, of which the first {WaitStatisticsProgram.EventsReadPerWakeup} are counted.");
        }

        if (maps.BegunBefore > 0)
        {
            WriteWarning($"{maps.BegunBefore} events were not counted by registration: waits that began before the measurement returned them (their events array was not seen).");
        }

        if (maps.NotCounted > 0)
        {
            WriteWarning($"{maps.NotCounted} events were not counted by registration: bpftrace's map of deliveries was full ({WaitStatisticsProgram.MapKeys} keys: threads, instances, data and masks).");
        }
    }

    private static string NameOf(int pid, int? tid)
        => (tid is int thread ? TaskFiles.Read(pid, thread, "comm")?.TrimEnd('\n') : ProcFs.ReadComm(pid)) ?? "?";
}
