using EpollTools.Core.Metrics;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>The text exposition format: HELP and TYPE lines, label values escaped, numbers as Prometheus reads them.</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void EscapesLabelValuesSoThatNoNameCanBreakALine()
    {
        var family = new MetricFamily("epolltools_test", "A help text with a \\ and a\nline feed.",
            new[] { new MetricSample(new[] { ("comm", "a\"b\\c\nd"), ("pid", "7") }, 2) });
        Assert.Equal(
            "# HELP epolltools_test A help text with a \\\\ and a\\nline feed.\n" +
            "# TYPE epolltools_test gauge\n" +
            "epolltools_test{comm=\"a\\\"b\\\\c\\nd\",pid=\"7\"} 2\n",
            PrometheusText.Write(new[] { family }));
    }

    [Fact]
    public void WritesNumbersAsPrometheusReadsThem()
    {
        var family = new MetricFamily("m", "h", new[]
        {
            new MetricSample(System.Array.Empty<(string, string)>(), 0.125),
            new MetricSample(System.Array.Empty<(string, string)>(), double.NaN),
            new MetricSample(System.Array.Empty<(string, string)>(), double.PositiveInfinity),
        });
        Assert.Equal("# HELP m h\n# TYPE m gauge\nm 0.125\nm NaN\nm +Inf\n", PrometheusText.Write(new[] { family }));
    }
}
