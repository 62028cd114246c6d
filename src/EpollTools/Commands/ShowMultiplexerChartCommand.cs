using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core.Multiplexers;

namespace EpollTools.Commands;

/// <summary>Show-MultiplexerChart: a text bar chart of Measure-Multiplexer's per-wait cost, one bar per mechanism and N.</summary>
[Cmdlet(VerbsCommon.Show, "MultiplexerChart")]
[OutputType(typeof(string))]
public sealed class ShowMultiplexerChartCommand : PSCmdlet
{
    private readonly List<PSObject> _measurements = new();

    /// <summary>Measurements from Measure-Multiplexer (deserialized ones too).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    /// <summary>The widest bar, in characters.</summary>
    [Parameter]
    [ValidateRange(10, 500)]
    public int Width { get; set; } = 50;

    protected override void ProcessRecord() => _measurements.Add(InputObject);

    protected override void EndProcessing()
    {
        var rows = _measurements.Select(m => new
        {
            Mechanism = Convert.ToString(m.Properties["Mechanism"]?.Value, CultureInfo.InvariantCulture) ?? "?",
            Watched = Convert.ToInt32(m.Properties["Watched"]?.Value, CultureInfo.InvariantCulture),
            Active = Convert.ToInt32(m.Properties["Active"]?.Value, CultureInfo.InvariantCulture),
            Wait = Convert.ToDouble(m.Properties["WaitMicroseconds"]?.Value, CultureInfo.InvariantCulture),
        }).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        // A log scale: the costs span orders of magnitude, and linear bars would hide all but the largest.
        double max = Math.Log10(rows.Max(r => r.Wait) + 1);
        WriteObject("per-wait cost (median, microseconds, log scale)");
        foreach (var group in rows.GroupBy(r => r.Active).OrderBy(g => g.Key))
        {
            WriteObject($"K = {group.Key} ready");
            foreach (var row in group.OrderBy(r => r.Mechanism).ThenBy(r => r.Watched))
            {
                int length = max <= 0 ? 0 : (int)Math.Round(Math.Log10(row.Wait + 1) / max * Width);
                WriteObject(string.Format(CultureInfo.InvariantCulture, "  {0,-6} N={1,-7} {2} {3:0.0}",
                    row.Mechanism.ToLowerInvariant(), row.Watched, new string('#', Math.Max(length, 1)), row.Wait));
            }
        }
    }
}
