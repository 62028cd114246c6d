using System;
using EpollTools.Core;
using EpollTools.Core.Multiplexers;
using Xunit;

namespace EpollTools.Tests.Core;

/// <summary>The refusals of ClassicWaits that come before any system call, for callers of the core API.</summary>
public sealed class ClassicWaitsTests
{
    [Fact]
    public void SelectRefusesANegativeFdAndOnePastFdSetSize()
    {
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => ClassicWaits.Select(new[] { -1 }, Array.Empty<int>(), Array.Empty<int>(), 0, null));
        Assert.Equal(-1, negative.ActualValue);
        var tooHigh = Assert.Throws<FdSetSizeExceededException>(() => ClassicWaits.Select(Array.Empty<int>(), new[] { 1024 }, Array.Empty<int>(), 0, null));
        Assert.Equal(1024, tooHigh.HighestFd);
    }

    [Fact]
    public void PollRefusesEpollsOwnFlags()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ClassicWaits.Poll(new[] { (0, EpollEvents.In | EpollEvents.OneShot) }, 0, null));
        Assert.Contains("ONESHOT", error.Message);
    }
}
