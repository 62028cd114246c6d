using System;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core.Multiplexers;

namespace EpollTools.Commands;

/// <summary>Measure-Multiplexer: times select, poll and epoll on N watched fds of which K are ready.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "Multiplexer")]
[OutputType(typeof(MultiplexerMeasurement))]
public sealed class MeasureMultiplexerCommand : PSCmdlet
{
    /// <summary>The numbers of watched fds (N) to measure.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[] Count { get; set; } = { 10, 100, 1000, 10000 };

    /// <summary>The numbers of ready fds (K); each is measured for every N it does not exceed.</summary>
    [Parameter(Position = 1)]
    [ValidateRange(0, int.MaxValue)]
    public int[] Active { get; set; } = { 1 };

    /// <summary>Which mechanisms to measure.</summary>
    [Parameter]
    public Multiplexer[] Mechanism { get; set; } = { Multiplexer.Select, Multiplexer.Poll, Multiplexer.Epoll };

    /// <summary>How many waits to time for each measurement; the median and spread are reported.</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int Repetitions { get; set; } = 200;

    protected override void EndProcessing()
    {
        var mechanisms = Mechanism.Distinct().ToArray();
        foreach (int watched in Count)
        {
            foreach (int active in Active.Where(k => k <= watched))
            {
                if (Stopping)
                {
                    return;
                }

                WriteVerbose($"Measuring N={watched}, K={active}.");
                try
                {
                    foreach (var measurement in MultiplexerBenchmark.Measure(watched, active, mechanisms, Repetitions, OnSelectRefused))
                    {
                        WriteObject(measurement);
                    }
                }
                catch (FdLimitExceededException e)
                {
                    WriteError(ErrorRecords.Usage("FdLimitExceeded", ErrorCategory.LimitsExceeded, watched, e.Message,
                        $"Measure at most {e.Available} fds here, or raise the limit (ulimit -n; the hard limit is a ceiling even for root)."));
                }
            }
        }
    }

    private void OnSelectRefused(FdSetSizeExceededException e) =>
        WriteError(ErrorRecords.Usage("SelectFdSetSizeExceeded", ErrorCategory.LimitsExceeded, e.HighestFd, e.Message,
            "That is select's design: poll and epoll have no such limit. Measure select with fewer fds."));
}
