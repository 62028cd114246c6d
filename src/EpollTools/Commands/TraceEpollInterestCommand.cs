using System;
using System.Diagnostics;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.Tracing;

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

    protected override void EndProcessing()
    {
        if (NothingCameDownThePipeline())
        {
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
