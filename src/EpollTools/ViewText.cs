using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;

namespace EpollTools;

/// <summary>
/// Text shaping for the format views: PowerShell's table wraps a cell at its width character by character, which
/// splits words ("ESTA" / "BLISHED"). The views call these from their script blocks to wrap at spaces, or to
/// shorten with an ellipsis, instead.
/// </summary>
public static class ViewText
{
    private const char Ellipsis = '\u2026';
    private const string Indent = "  ";

    /// <summary>
    /// <paramref name="lines"/> joined by newlines, each wrapped at spaces to <paramref name="width"/> columns, the
    /// continuation lines of a line indented by two spaces. A word longer than a line is shortened with an ellipsis:
    /// at its end, or for a path at its start, so that the file's name stays.
    /// </summary>
    public static string Wrap(IEnumerable<object?> lines, int width)
    {
        width = Math.Max(width, 4);
        var wrapped = new List<string>();
        foreach (var item in lines)
        {
            foreach (var line in (item?.ToString() ?? string.Empty).Split('\n'))
            {
                WrapLine(line, width, wrapped);
            }
        }

        return string.Join('\n', wrapped);
    }

    /// <summary>
    /// A registration's Target cell (the default and -Readiness views of Get-EpollInterest): "STALE (fd 9) " on a stale
    /// row (with the fd that still holds the file), "? " on an Unknown one, "[in 1234] " where it was read in another
    /// holder, the target, then a "! " line per diagnosis, wrapped to <paramref name="width"/>. Reads the row's
    /// properties by name, so that it draws a deserialized row as well.
    /// </summary>
    public static string InterestTarget(PSObject row, int width)
    {
        object? Value(string name) => row.Properties[name]?.Value;
        string state = Value("State")?.ToString() ?? string.Empty;
        string marker = state switch
        {
            "Stale" => Value("StillOpenAs") is { } holder ? $"STALE (fd {holder}) " : "STALE ",
            "Unknown" => "? ",
            _ => string.Empty,
        };
        string where = Equals(Value("TargetProcessId")?.ToString(), Value("ProcessId")?.ToString()) ? string.Empty : $"[in {Value("TargetProcessId")}] ";
        var diagnoses = LanguagePrimitives.GetEnumerable(Value("Diagnoses"))?.Cast<object?>().Select(d => (object?)$"! {d}") ?? Enumerable.Empty<object?>();
        return Wrap(new object?[] { marker + where + Value("Target") }.Concat(diagnoses), width);
    }

    /// <summary>
    /// Flags written "A|B|C" wrapped between flags, each line but the last ending in '|', so that no flag name is
    /// split: O_RDONLY|O_LARGEFILE| / O_CLOEXEC.
    /// </summary>
    public static string WrapFlags(string? flags, int width)
    {
        var lines = new List<string>();
        var current = new StringBuilder();
        foreach (var flag in (flags ?? string.Empty).Split('|'))
        {
            if (current.Length > 0 && current.Length + 1 + flag.Length > width)
            {
                lines.Add(current.Append('|').ToString());
                current.Clear();
            }
            else if (current.Length > 0)
            {
                current.Append('|');
            }

            current.Append(Fit(flag, width - 1));
        }

        lines.Add(current.ToString());
        return string.Join('\n', lines);
    }

    /// <summary><paramref name="text"/> as it is if it fits <paramref name="width"/> columns, else cut to fit with an ellipsis at the end.</summary>
    public static string Fit(string? text, int width)
    {
        text ??= string.Empty;
        return text.Length <= width || width < 1 ? text : text[..(width - 1)] + Ellipsis;
    }

    /// <summary>A word too long for its line, shortened where it keeps its meaning: a path keeps its end (the file's name).</summary>
    private static string FitWord(string word, int width)
        => word.Length <= width || width < 2 || !word.StartsWith('/') ? Fit(word, width) : Ellipsis + word[^(width - 1)..];

    private static void WrapLine(string line, int width, List<string> wrapped)
    {
        var current = new StringBuilder();
        bool empty = true; // nothing but the indent on the current line yet
        foreach (var word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && current.Length + 1 + word.Length > width)
            {
                wrapped.Add(current.ToString());
                current.Clear().Append(Indent);
                empty = true;
            }

            if (!empty)
            {
                current.Append(' ');
            }

            current.Append(FitWord(word, width - current.Length));
            empty = false;
        }

        wrapped.Add(current.ToString());
    }

    /// <summary>
    /// A histogram as one bar a bucket, from a live <see cref="Core.Proc.Log2Histogram"/> or one back from remoting or
    /// Export-Clixml (its Buckets as property bags); text that crossed the wire as text is shown as it is.
    /// </summary>
    public static string Histogram(object? value, int barWidth = 30)
    {
        var histogram = value is PSObject wrapped ? wrapped.BaseObject is Core.Proc.Log2Histogram live ? live : (object)wrapped : value;
        if (histogram is Core.Proc.Log2Histogram real)
        {
            return real.Buckets.Count == 0 ? "(none)" : real.ToText(barWidth);
        }

        if (histogram is PSObject bag && bag.Properties["Buckets"]?.Value is { } buckets && LanguagePrimitives.GetEnumerable(buckets) is { } items)
        {
            var rebuilt = new List<Core.Proc.HistogramBucket>();
            foreach (object? item in items)
            {
                if (item is PSObject bucket)
                {
                    rebuilt.Add(new Core.Proc.HistogramBucket(
                        Convert.ToInt64(bucket.Properties["Min"]?.Value, System.Globalization.CultureInfo.InvariantCulture),
                        Convert.ToInt64(bucket.Properties["Max"]?.Value, System.Globalization.CultureInfo.InvariantCulture),
                        Convert.ToInt64(bucket.Properties["Count"]?.Value, System.Globalization.CultureInfo.InvariantCulture)));
                }
            }

            return rebuilt.Count == 0 ? "(none)" : new Core.Proc.Log2Histogram(rebuilt).ToText(barWidth);
        }

        return histogram?.ToString() ?? string.Empty;
    }

    /// <summary>
    /// The receivers of a shared file's or a registration's events, one line each: who, how many, what share, and a bar
    /// of up to <paramref name="barWidth"/> (live objects and deserialized ones alike).
    /// </summary>
    public static string Receivers(object? value, int whoWidth = 34, int barWidth = 16)
    {
        var lines = new List<string>();
        foreach (object? item in LanguagePrimitives.GetEnumerable(value) ?? Array.Empty<object?>())
        {
            var receiver = PSObject.AsPSObject(item);
            object? Value(string name) => receiver.Properties[name]?.Value;
            long events = Convert.ToInt64(Value("Events") ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
            double share = Convert.ToDouble(Value("Share") ?? 0.0, System.Globalization.CultureInfo.InvariantCulture);
            string who = Fit(Value("Who")?.ToString(), whoWidth);
            lines.Add(Value("ThreadId") is null
                ? $"{who.PadRight(whoWidth)} {"none",8}"
                : $"{who.PadRight(whoWidth)} {events,8} {share,4:P0} {new string('\u2588', (int)Math.Round(share * barWidth))}".TrimEnd());
        }

        return lines.Count == 0 ? "(none)" : string.Join('\n', lines);
    }
}
