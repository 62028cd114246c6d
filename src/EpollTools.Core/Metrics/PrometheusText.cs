using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace EpollTools.Core.Metrics;

/// <summary>One sample of a metric family: its labels (name and value, in order) and its value.</summary>
public sealed record MetricSample(IReadOnlyList<(string Name, string Value)> Labels, double Value);

/// <summary>A metric family: name, help, type (gauge here: every figure is a state read now), and its samples.</summary>
public sealed record MetricFamily(string Name, string Help, IReadOnlyList<MetricSample> Samples, string Type = "gauge");

/// <summary>
/// The Prometheus text exposition format (version 0.0.4) as node_exporter's textfile collector reads it: a HELP and a
/// TYPE line per family, then its samples, label values escaped (backslash, double quote, line feed).
/// </summary>
public static class PrometheusText
{
    public static string Write(IEnumerable<MetricFamily> families)
    {
        var text = new StringBuilder();
        foreach (var family in families)
        {
            text.Append("# HELP ").Append(family.Name).Append(' ').Append(EscapeHelp(family.Help)).Append('\n');
            text.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Type).Append('\n');
            foreach (var sample in family.Samples)
            {
                text.Append(family.Name);
                if (sample.Labels.Count > 0)
                {
                    text.Append('{').Append(string.Join(",", sample.Labels.Select(l => $"{l.Name}=\"{EscapeLabel(l.Value)}\""))).Append('}');
                }

                text.Append(' ').Append(Number(sample.Value)).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>A label value as the format reads it between quotes.</summary>
    public static string EscapeLabel(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    /// <summary>HELP text: backslash and line feed escaped (quotes stay as they are).</summary>
    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\").Replace("\n", "\\n");

    private static string Number(double value) => double.IsNaN(value) ? "NaN"
        : double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : value.ToString("R", CultureInfo.InvariantCulture);
}
