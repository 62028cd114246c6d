using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core.Multiplexers;
using EpollTools.Core.Native;

namespace EpollTools.Commands;

/// <summary>Measure-Multiplexer: times select, poll and epoll on N watched fds of which K are ready.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "Multiplexer")]
[OutputType(typeof(MultiplexerMeasurement))]
public sealed class MeasureMultiplexerCommand : PSCmdlet
{
    /// <summary>
    /// The numbers of watched fds (N) to measure. The defaults keep select's three counts well under FD_SETSIZE
    /// (1024) beside the ~150 fds a pwsh has open, and show poll and epoll at a scale select cannot reach.
    /// </summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[] Count { get; set; } = { 10, 100, 500, 10000 };

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

    private readonly List<int> _selectLeftOut = new();

    protected override void EndProcessing()
    {
        var mechanisms = Mechanism.Distinct().ToArray();
        bool selectAskedFor = MyInvocation.BoundParameters.ContainsKey(nameof(Mechanism));
        foreach (int watched in Count)
        {
            // select past FD_SETSIZE is an error when asked for by name; in the default set it is left out with a note.
            Action<FdSetSizeExceededException> onSelectRefused = selectAskedFor ? OnSelectRefused : _ => _selectLeftOut.Add(watched);
            foreach (int active in Active.Where(k => k <= watched))
            {
                if (Stopping)
                {
                    return;
                }

                WriteVerbose($"Measuring N={watched}, K={active}.");
                try
                {
                    foreach (var measurement in MultiplexerBenchmark.Measure(watched, active, mechanisms, Repetitions, onSelectRefused))
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

        if (_selectLeftOut.Count > 0)
        {
            WriteWarning($"select was left out for N = {string.Join(", ", _selectLeftOut.Distinct())}: those fds reach past FD_SETSIZE " +
                $"({SelectConstants.FD_SETSIZE}), and an fd_set cannot hold them. -Mechanism Select reports it as an error.");
        }
    }

    private void OnSelectRefused(FdSetSizeExceededException e) =>
        WriteError(ErrorRecords.Usage("SelectFdSetSizeExceeded", ErrorCategory.LimitsExceeded, e.HighestFd, e.Message,
            "That is select's design: poll and epoll have no such limit. Measure select with fewer fds."));
}
