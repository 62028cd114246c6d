using System;
using System.Collections.Generic;
using System.Linq;
using System.Diagnostics;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.Tracing;
using EpollTools.Core.Tracing.Exact;

namespace EpollTools.Commands;

/// <summary>
/// Trace-EpollInterest: samples interest lists (and, with -IncludeThreads, the threads waiting on them) every
/// -Interval and writes one object per change, until Ctrl+C, -Duration or -Count samples.
/// </summary>
[Cmdlet(VerbsDiagnostic.Trace, "EpollInterest", DefaultParameterSetName = IdSet)]
[OutputType(typeof(EpollInterestChange))]
public sealed class TraceEpollInterestCommand : EpollInstanceSelectionCommandBase
{
    /// <summary>Time between samples, in milliseconds (a TimeSpan is accepted too).</summary>
    [Parameter]
    [TimeoutTransformation]
    [ValidateRange(10, int.MaxValue)]
    public int Interval { get; set; } = 100;

    /// <summary>Stop after this long, in milliseconds (a TimeSpan is accepted too). Default: until Ctrl+C.</summary>
    [Parameter]
    [TimeoutTransformation]
    [ValidateRange(1, int.MaxValue)]
    public int Duration { get; set; } = -1;

    /// <summary>Stop after this many samples (the first reading, which reports nothing, is not counted).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Also report threads that start or stop waiting on a traced instance.</summary>
    [Parameter]
    public SwitchParameter IncludeThreads { get; set; }

    /// <summary>
    /// Every change exactly as the processes make it, through eBPF (bpftrace), not sampled: each epoll_ctl with its
    /// result, each wait's delivered events, instances created and closed, registered fds closed without DEL.
    /// </summary>
    [Parameter]
    public SwitchParameter Exact { get; set; }

    /// <summary>With -Exact: also trace the child processes the traced ones fork from now on (and theirs).</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    protected override void EndProcessing()
    {
        if (NothingCameDownThePipeline())
        {
            return;
        }

        if (Follow && !Exact)
        {
            ThrowTerminatingError(ErrorRecords.Usage("FollowWithoutExact", ErrorCategory.InvalidArgument, null,
                "-Follow traces the children of the traced processes as they fork: only the exact trace sees a fork as it happens.",
                "Add -Exact (it needs bpftrace and root), or leave out -Follow and name the children with -Id once they exist."));
        }

        if (Exact)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Interval)) || IncludeThreads)
            {
                ThrowTerminatingError(ErrorRecords.Usage("ExactWithSamplingParameter", ErrorCategory.InvalidArgument, null,
                    "-Interval and -IncludeThreads belong to the sampled trace: -Exact reports every call as it is made, with the thread that made it.",
                    "Leave out -Interval and -IncludeThreads with -Exact; every Delivered, TimedOut and Failed wait names its ThreadId."));
            }

            TraceExactly();
            return;
        }

        try
        {
            var found = new EpollInterestQuery(WriteVerbose).FindInstances(RequestedProcesses(), ExplicitIds, result => WriteProcessResult(result), StopToken);
            var tracer = new InterestTracer(found, IncludeThreads);
            if (tracer.InstanceCount == 0)
            {
                WriteVerbose("No epoll instance to trace.");
                return;
            }

            // Said once, as Write-Host would say it: a trace of a quiet list writes nothing else, and the operator
            // should know what is being watched (the Information stream: never mixed into the objects).
            string instances = tracer.InstanceCount == 1 ? "1 epoll instance" : $"{tracer.InstanceCount} epoll instances";
            string registrations = tracer.RegistrationCount == 1 ? "1 registration" : $"{tracer.RegistrationCount} registrations";
            string until = Duration >= 0 ? $"for {Duration} ms" : Count > 0 ? $"for {Count} samples" : "until Ctrl+C";
            WriteInformation(new HostInformationMessage { Message = $"Tracing {instances} ({registrations}) every {Interval} ms {until}." }, new[] { "PSHOST" });
            Trace(tracer);
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null)); // the fd limit: every further read would fail too
        }
    }

    /// <summary>
    /// -Exact: bpftrace on the processes asked for, from their interest lists now (the instances they may not have
    /// yet are traced from their creation), until Ctrl+C, -Duration or -Count changes.
    /// </summary>
    private void TraceExactly()
    {
        var requested = RequestedProcesses();
        var pids = requested.Select(r => r.Pid).Distinct().ToList();
        if (pids.Count > EpollCallProgram.MaxProcesses)
        {
            ThrowTerminatingError(ErrorRecords.Usage("ExactTraceTooManyProcesses", ErrorCategory.LimitsExceeded, pids.Count,
                $"-Exact traces at most {EpollCallProgram.MaxProcesses} processes at once; {pids.Count} were selected.",
                "Name the processes to trace (-Id, or a narrower -Name); without -Exact, Trace-EpollInterest samples any number."));
        }

        var instances = new List<(int Pid, int EpollFd)>();
        foreach (var holders in new EpollInterestQuery(WriteVerbose).FindInstances(requested, ExplicitIds, result => WriteExactProcessResult(result), StopToken))
        {
            instances.AddRange(holders.Where(h => pids.Contains(h.Pid)).Select(h => (h.Pid, h.Fd)));
        }

        WriteVerbose($"Starting bpftrace on {pids.Count} process(es): it compiles its program first, which takes about a second.");
        ExactTrace trace;
        try
        {
            trace = ExactTrace.Start(pids, instances, EpollFd, Follow, StopToken);
        }
        catch (BpfTraceException e)
        {
            ThrowTerminatingError(ErrorRecords.ForBpfTrace(e, "without -Exact, Trace-EpollInterest samples /proc"));
            return;
        }
        catch (OperationCanceledException)
        {
            return; // Ctrl+C while bpftrace started
        }

        using (trace)
        {
            string until = Duration >= 0 ? $"for {Duration} ms" : Count > 0 ? $"for {Count} changes" : "until Ctrl+C";
            WriteInformation(new HostInformationMessage
            {
                Message = $"Tracing every epoll call of {pids.Count} process(es), {trace.InstanceCount} epoll instance(s) ({trace.RegistrationCount} registrations) {until}; bpftrace attached in {trace.Startup.TotalMilliseconds:0} ms.",
            }, new[] { "PSHOST" });
            var clock = Stopwatch.StartNew();
            int written = 0;
            long lastLook = 0;
            while (!Stopping && (Count == 0 || written < Count))
            {
                var wait = Duration < 0 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromMilliseconds(Math.Min(100, Duration - clock.ElapsedMilliseconds));
                if (wait < TimeSpan.Zero)
                {
                    break;
                }

                if (!trace.TryNext(wait, StopToken, out var changes))
                {
                    if (trace.Ended)
                    {
                        WriteWarning($"bpftrace ended on its own: {trace.Said()}");
                        break;
                    }

                    // Quiet: has everything traced exited? Then what it did last is read, and the trace ends.
                    if (clock.ElapsedMilliseconds - lastLook >= 500)
                    {
                        lastLook = clock.ElapsedMilliseconds;
                        if (trace.AllExited())
                        {
                            foreach (var last in trace.Flush(StopToken))
                            {
                                WriteObject(last);
                            }

                            WriteVerbose("Every traced process has exited: the trace ends.");
                            break;
                        }
                    }

                    continue;
                }

                foreach (var change in changes.Take(Count == 0 ? int.MaxValue : Count - written))
                {
                    WriteObject(change);
                    written++;
                }
            }

            // The calls of the last moments, held to be put in order, were made within the trace too.
            if (!Stopping)
            {
                foreach (var change in trace.Release().Take(Count == 0 ? int.MaxValue : Count - written))
                {
                    WriteObject(change);
                    written++;
                }
            }

            if (trace.Lost > 0)
            {
                WriteWarning($"The kernel dropped {trace.Lost} traced calls (bpftrace's buffer was full): the changes written miss them.");
            }
        }
    }

    /// <summary>A process that cannot be read is still traced (the trace needs no /proc access to it), but said.</summary>
    private void WriteExactProcessResult(InterestResult result)
    {
        if (result is not InterestResult.NoEpollFd)
        {
            WriteProcessResult(result); // a process with no epoll fd yet is traced from its first epoll_create1
        }
    }

    private void Trace(InterestTracer tracer)
    {
        var clock = Stopwatch.StartNew();
        for (int samples = 0; Count == 0 || samples < Count; samples++)
        {
            int wait = Duration < 0 ? Interval : (int)Math.Min(Interval, Duration - clock.ElapsedMilliseconds);
            if (wait < 0 || StopToken.WaitHandle.WaitOne(wait))
            {
                return; // -Duration is over, or Ctrl+C
            }

            WriteObject(tracer.Sample(), enumerateCollection: true);
            if (tracer.InstanceCount == 0)
            {
                WriteVerbose("Every traced epoll instance is closed: the trace ends.");
                return;
            }
        }
    }

}
