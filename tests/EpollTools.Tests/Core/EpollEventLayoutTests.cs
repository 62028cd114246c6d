using System.Runtime.InteropServices;
using EpollTools.Core;
using EpollTools.Core.Native;
using Xunit;

namespace EpollTools.Tests.Core;

public sealed class EpollEventLayoutTests
{
    [Fact]
    public void X64IsPacked12BytesWithDataAtOffset4()
    {
        var layout = EpollEventLayout.For(Architecture.X64);
        Assert.Equal(12, layout.Size);
        Assert.Equal(4, layout.DataOffset);
    }

    [Theory]
    [InlineData(Architecture.Arm64)]
    [InlineData(Architecture.RiscV64)]
    [InlineData(Architecture.LoongArch64)]
    public void OtherArchitecturesAlignTheDataTo16Bytes(Architecture architecture)
    {
        var layout = EpollEventLayout.For(architecture);
        Assert.Equal(16, layout.Size);
        Assert.Equal(8, layout.DataOffset);
    }

    [Fact]
    public void WritesAndReadsBackEventsAndData()
    {
        foreach (var layout in new[] { EpollEventLayout.For(Architecture.X64), EpollEventLayout.For(Architecture.Arm64) })
        {
            var buffer = new byte[layout.Size];
            layout.Write(buffer, EpollEvents.In | EpollEvents.ET, 0x1122334455667788);
            var (events, data) = layout.Read(buffer);
            Assert.Equal(EpollEvents.In | EpollEvents.ET, events);
            Assert.Equal(0x1122334455667788UL, data);
        }
    }

    [Fact]
    public void TheCurrentLayoutMatchesWhatTheKernelReturns()
    {
        // The kernel fills the buffer with its own struct layout: a wrong size or offset garbles the data.
        using var instance = EpollInstance.Create();
        using var first = EventFd.Create(initialValue: 1);
        using var second = EventFd.Create(initialValue: 1);
        instance.Add(first.Fd, EpollEvents.In, 0xA1A2A3A4A5A6A7A8);
        instance.Add(second.Fd, EpollEvents.In | EpollEvents.Out, 0xB1B2B3B4B5B6B7B8);
        var events = instance.Wait(maxEvents: 8, timeoutMs: 0);
        Assert.Equal(2, events.Count);
        Assert.Contains(events, e => e.Data == 0xA1A2A3A4A5A6A7A8 && e.Events == EpollEvents.In && e.Fd == first.Fd);
        Assert.Contains(events, e => e.Data == 0xB1B2B3B4B5B6B7B8 && e.Events == (EpollEvents.In | EpollEvents.Out) && e.Fd == second.Fd);
    }
}

public sealed class EpollEventsTextTests
{
    [Theory]
    [InlineData(EpollEvents.None, "0")]
    [InlineData(EpollEvents.In, "IN")]
    [InlineData(EpollEvents.In | EpollEvents.Err | EpollEvents.Hup, "IN|ERR|HUP")]
    [InlineData(EpollEvents.In | EpollEvents.ET, "IN|ET")]
    [InlineData(EpollEvents.OneShot, "ONESHOT")]
    [InlineData(EpollEvents.In | EpollEvents.RdHup | EpollEvents.Exclusive | EpollEvents.Wakeup, "IN|RDHUP|EXCLUSIVE|WAKEUP")]
    [InlineData((EpollEvents)0x00100001, "IN|0x100000")]
    public void UsesTheKernelNames(EpollEvents events, string expected) => Assert.Equal(expected, EpollEventsText.ToShortString(events));

    [Fact]
    public void FlagValuesAreTheUapiOnes()
    {
        // include/uapi/linux/eventpoll.h
        Assert.Equal(0x001u, (uint)EpollEvents.In);
        Assert.Equal(0x002u, (uint)EpollEvents.Pri);
        Assert.Equal(0x004u, (uint)EpollEvents.Out);
        Assert.Equal(0x008u, (uint)EpollEvents.Err);
        Assert.Equal(0x010u, (uint)EpollEvents.Hup);
        Assert.Equal(0x020u, (uint)EpollEvents.Nval);
        Assert.Equal(0x040u, (uint)EpollEvents.RdNorm);
        Assert.Equal(0x080u, (uint)EpollEvents.RdBand);
        Assert.Equal(0x100u, (uint)EpollEvents.WrNorm);
        Assert.Equal(0x200u, (uint)EpollEvents.WrBand);
        Assert.Equal(0x400u, (uint)EpollEvents.Msg);
        Assert.Equal(0x2000u, (uint)EpollEvents.RdHup);
        Assert.Equal(0x10000000u, (uint)EpollEvents.Exclusive);
        Assert.Equal(0x20000000u, (uint)EpollEvents.Wakeup);
        Assert.Equal(0x40000000u, (uint)EpollEvents.OneShot);
        Assert.Equal(0x80000000u, (uint)EpollEvents.ET);
    }
}
