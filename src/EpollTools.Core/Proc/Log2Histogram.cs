using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace EpollTools.Core.Proc;

/// <summary>One power-of-two bucket of a histogram: how many values fell in [Min, Max].</summary>
public sealed record HistogramBucket(long Min, long Max, long Count);

/// <summary>
/// A log2 histogram as the kernel aggregated it (bpftrace's hist()): buckets of powers of two, counts. Plain
/// properties, so that it survives serialization; its text is one bar a bucket.
/// </summary>
public sealed class Log2Histogram
{
    public Log2Histogram(IEnumerable<HistogramBucket> buckets) => Buckets = buckets.Where(b => b.Count > 0).ToArray();

    /// <summary>The buckets that have values, smallest first.</summary>
    public ItemList<HistogramBucket> Buckets { get; }

    public long Total => Buckets.Sum(b => b.Count);

    /// <summary>One line a bucket: "[4, 7]  12 ████", bars scaled to <paramref name="barWidth"/>.</summary>
    public string ToText(int barWidth = 30)
    {
        long most = Buckets.Count == 0 ? 1 : Buckets.Max(b => b.Count);
        var text = new StringBuilder();
        foreach (var bucket in Buckets)
        {
            string range = bucket.Min == bucket.Max ? $"{bucket.Min}" : $"{bucket.Min}-{bucket.Max}";
            int bar = (int)System.Math.Max(1, bucket.Count * barWidth / most);
            text.Append($"{range,13} {bucket.Count,8} {new string('█', bar)}\n");
        }

        return text.ToString().TrimEnd('\n');
    }

    public override string ToString() => string.Join(", ", Buckets.Select(b => $"{(b.Min == b.Max ? $"{b.Min}" : $"{b.Min}-{b.Max}")}: {b.Count}"));
}
