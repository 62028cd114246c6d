using System;
using System.IO;
using System.Linq;
using System.Net;
using EpollTools.Core;
using EpollTools.Core.Parsing;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>The /proc parsers on text captured from this kernel (tests/fixtures/epoll-fixture.c) and on older formats.</summary>
public sealed class FdInfoParserTests
{
    internal static string Sample(string name) => File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "EpollTools.Tests", "Samples", name));

    [Fact]
    public void ReadsAnEpollInterestListInKernelOrder()
    {
        var info = FdInfoParser.Parse(Sample("fdinfo-eventpoll.txt"));
        Assert.Empty(info.Errors);
        Assert.Equal(0, info.Pos);
        Assert.Equal(2, info.Flags);
        Assert.Equal(17, info.MntId);
        Assert.Equal(1038UL, info.Ino);
        Assert.Equal(new[] { 7, 3, 5, 8, 6, 13, 9, 16, 12, 16, 11 }, info.EpollTargets.Select(t => t.Tfd));

        var accepted = info.EpollTargets.Single(t => t.Tfd == 5);
        Assert.Equal(EpollEvents.In | EpollEvents.Out | EpollEvents.Err | EpollEvents.Hup | EpollEvents.RdHup | EpollEvents.ET, accepted.Events);
        Assert.Equal(0xfeedfacecafebeefUL, accepted.Data);
        Assert.Equal(0xc91dUL, accepted.Ino);
        Assert.Equal("0:9", accepted.Device);

        var pipe = info.EpollTargets.Single(t => t.Tfd == 8);
        Assert.Equal("0:15", pipe.Device);
        Assert.Equal(EpollEvents.In | EpollEvents.Err | EpollEvents.Hup, pipe.Events);
    }

    [Fact]
    public void NumbersRegistrationsThatShareATfd()
    {
        var lines = FdInfoParser.Parse(Sample("fdinfo-eventpoll.txt")).EpollTargets.Where(t => t.Tfd == 16).ToList();
        Assert.Equal(new[] { 0, 1 }, lines.Select(l => l.Offset));
        Assert.Equal(new[] { 0xdeadUL, 0xbeefUL }, lines.Select(l => l.Data));
    }

    [Fact]
    public void ShowsAFiredOneShotRegistrationWithOnlyItsFlag()
    {
        var line = Assert.Single(FdInfoParser.Parse(Sample("fdinfo-eventpoll-oneshot-fired.txt")).EpollTargets);
        Assert.Equal(EpollEvents.OneShot, line.Events);
    }

    [Fact]
    public void ReadsOlderEpollLinesWithoutPosInoAndSdev()
    {
        var info = FdInfoParser.Parse(Sample("fdinfo-eventpoll-old.txt"));
        Assert.Empty(info.Errors);
        Assert.Null(info.MntId);
        Assert.Null(info.Ino);
        Assert.Equal(2, info.EpollTargets.Count);
        Assert.Null(info.EpollTargets[0].Ino);
        Assert.Null(info.EpollTargets[0].Device);
        Assert.Equal(ulong.MaxValue, info.EpollTargets[1].Data);
        Assert.Equal(EpollEvents.In | EpollEvents.ET, info.EpollTargets[1].Events);
    }

    [Fact]
    public void Reads64BitInodeNumbers()
    {
        var info = FdInfoParser.Parse(Sample("fdinfo-eventpoll-64bit-ino.txt"));
        Assert.Empty(info.Errors);
        Assert.Equal(18446744073709551000UL, info.Ino);
        Assert.Equal(0x1a2b3c4d5e6f7a8bUL, info.EpollTargets[0].Ino);
        Assert.Equal("8:17", info.EpollTargets[0].Device);
    }

    [Fact]
    public void ReadsEventFdWithAndWithoutItsId()
    {
        var current = FdInfoParser.Parse(Sample("fdinfo-eventfd.txt"));
        Assert.Equal(new EventFdFields(5, 1, false), current.EventFd);
        var old = FdInfoParser.Parse(Sample("fdinfo-eventfd-old.txt"));
        Assert.Empty(old.Errors);
        Assert.Equal(new EventFdFields(5, null, null), old.EventFd);
        Assert.Null(old.Ino);
    }

    [Fact]
    public void ReadsTimerFdFields()
    {
        var timer = FdInfoParser.Parse(Sample("fdinfo-timerfd.txt")).TimerFd!;
        Assert.Equal(1, timer.ClockId);
        Assert.Equal(0UL, timer.Ticks);
        Assert.Equal(0, timer.SettimeFlags);
        Assert.Equal(TimeSpan.FromSeconds(592) + TimeSpan.FromTicks(5890756), timer.Value);
        Assert.Equal(TimeSpan.FromSeconds(30), timer.Interval);
    }

    [Fact]
    public void ReadsASignalFdMaskAsSignalNames()
    {
        var info = FdInfoParser.Parse(Sample("fdinfo-signalfd.txt"));
        Assert.Equal(0xa00UL, info.SignalMask);
        Assert.Equal("SIGUSR1,SIGUSR2", FlagNames.DecodeSignals(info.SignalMask!.Value));
    }

    [Fact]
    public void ReadsInotifyWatchesWithHexWatchDescriptors()
    {
        var captured = FdInfoParser.Parse(Sample("fdinfo-inotify.txt"));
        Assert.Equal(new[] { 2, 1 }, captured.InotifyWatches.Select(w => w.Wd));
        var hex = FdInfoParser.Parse(Sample("fdinfo-inotify-hex-wd.txt"));
        Assert.Empty(hex.Errors);
        Assert.Equal(new[] { 31, 10 }, hex.InotifyWatches.Select(w => w.Wd));
        Assert.Equal(0x3c570UL, hex.InotifyWatches[0].Ino);
        Assert.Equal(0x100u, hex.InotifyWatches[0].Mask);
    }

    [Fact]
    public void ReadsFanotifyGroupAndMarks()
    {
        var info = FdInfoParser.Parse(Sample("fdinfo-fanotify.txt"));
        Assert.Empty(info.Errors);
        Assert.Equal(0x10u, info.FanotifyFlags);
        Assert.Equal(2, info.FanotifyMarks.Count);
        Assert.Equal(0x20, info.FanotifyMarks[0].MntId); // printed in hex
        Assert.Equal(0x4f969UL, info.FanotifyMarks[1].Ino);
        Assert.Equal(0x40000000u, info.FanotifyMarks[1].IgnoredMask);
    }

    [Fact]
    public void ReadsPidFdFields()
    {
        var info = FdInfoParser.Parse(Sample("fdinfo-pidfd.txt"));
        Assert.Equal(1, info.PidFdPid);
        Assert.Equal(new[] { 1 }, info.PidFdNsPids);
        Assert.Equal("O_RDWR|O_CLOEXEC", FlagNames.DecodeOpenFlags(info.Flags!.Value));
    }

    [Fact]
    public void ReportsMalformedLinesAndKeepsGoing()
    {
        var info = FdInfoParser.Parse(Sample("fdinfo-garbage.txt"));
        Assert.Equal(new[] { 12, 14 }, info.EpollTargets.Select(t => t.Tfd));
        Assert.Equal(3, info.Errors.Count);
        Assert.Contains(info.Errors, e => e.Line.StartsWith("tfd: twelve") && e.LineNumber == 6);
        Assert.Contains(info.Errors, e => e.Line.Contains("events:   zz"));
        Assert.Contains(info.Errors, e => e.Line == "flags:\t09" && e.Reason.Contains("octal"));
        Assert.Equal(new[] { "this line has no colon" }, info.UnknownLines);
        Assert.Contains(info.Fields, f => f.Key == "future-field" && f.Value == "something new");
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("tfd:")]
    [InlineData("inotify wd")]
    [InlineData("it_value: (1,")]
    [InlineData("pos:\t99999999999999999999999")]
    public void NeverThrows(string text)
    {
        var info = FdInfoParser.Parse(text);
        Assert.Empty(info.EpollTargets);
    }

    [Theory]
    [InlineData(0, "O_RDONLY")]
    [InlineData(02, "O_RDWR")]
    [InlineData(04002, "O_RDWR|O_NONBLOCK")]
    [InlineData(02004001, "O_WRONLY|O_NONBLOCK|O_CLOEXEC")]
    [InlineData(0100000000, "O_RDONLY|0100000000")]
    public void DecodesOpenFlagsFromOctal(int octalAsDecimalDigits, string expected)
    {
        int flags = Convert.ToInt32(octalAsDecimalDigits.ToString(), 8);
        Assert.Equal(expected, FlagNames.DecodeOpenFlags(flags));
    }

    [Fact]
    public void NamesRealTimeSignals() => Assert.Equal("SIGINT,SIGRTMIN+2", FlagNames.DecodeSignals((1UL << 1) | (1UL << 33)));
}

public sealed class NetTableParserTests
{
    [Fact]
    public void ReadsTcpListenerAndConnections()
    {
        var entries = NetTableParser.ParseInet(FdInfoParserTests.Sample("net-tcp.txt"), "TCP").ToList();
        var listener = entries.Single(e => e.Inode == 51483);
        Assert.Equal(IPAddress.Loopback, listener.LocalAddress);
        Assert.Equal(0x8E3B, listener.LocalPort);
        Assert.Equal("LISTEN", listener.State);
        Assert.Equal("TCP 127.0.0.1:36411 LISTEN", listener.ToString());
        var anyAddress = entries.Single(e => e.Inode == 1065);
        Assert.Equal(IPAddress.Any, anyAddress.LocalAddress);
        Assert.Contains(entries, e => e.State == "TIME_WAIT");
    }

    [Fact]
    public void ReadsTcp6AddressesWordByWord()
    {
        var entries = NetTableParser.ParseInet(FdInfoParserTests.Sample("net-tcp6.txt"), "TCP6").ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal(IPAddress.IPv6Loopback, e.LocalAddress));
        var connected = entries.Single(e => e.LocalPort == 0x8116);
        Assert.Equal("ESTABLISHED", connected.State);
        Assert.Equal(0xC8D5, connected.RemotePort);
        Assert.Equal("TCP6 [::1]:33046 -> [::1]:51413 ESTABLISHED", connected.ToString());
    }

    [Fact]
    public void ReadsUdpAsUnconnected()
    {
        var udp = Assert.Single(NetTableParser.ParseInet(FdInfoParserTests.Sample("net-udp.txt"), "UDP"));
        Assert.Equal("UNCONNECTED", udp.State);
        Assert.Equal("UDP 127.0.0.1:57369 UNCONNECTED", udp.ToString());
        var udp6 = Assert.Single(NetTableParser.ParseInet(FdInfoParserTests.Sample("net-udp6.txt"), "UDP6"));
        Assert.Equal(IPAddress.IPv6Loopback, udp6.LocalAddress);
    }

    [Fact]
    public void ReadsUnixSocketsWithPathsAndListeningFlag()
    {
        var entries = NetTableParser.ParseUnix(FdInfoParserTests.Sample("net-unix.txt")).ToList();
        var listener = entries.First(e => e.Inode == 51487);
        Assert.Equal("UNIX STREAM", listener.Protocol);
        Assert.Equal("LISTEN", listener.State);
        Assert.Equal("/tmp/fx.sock", listener.Path);
        Assert.Equal("UNIX STREAM LISTEN /tmp/fx.sock", listener.ToString());
        Assert.Contains(entries, e => e.State == "CONNECTED" && e.Path == string.Empty);
    }

    [Fact]
    public void KeepsAUnixPathWithSpacesWholeAndReadsALineAsTheWholeTextDoes()
    {
        const string line = "000000000d5e80d4: 00000002 00000000 00010000 0001 01 51488 /tmp/a dir/with  spaces.sock";
        var entry = NetTableParser.ParseUnixLine(line)!;
        Assert.Equal("/tmp/a dir/with  spaces.sock", entry.Path);
        Assert.Equal(51488UL, entry.Inode);
        Assert.Equal(entry, Assert.Single(NetTableParser.ParseUnix("Num RefCount Protocol Flags Type St Inode Path\n" + line + "\n")));
        Assert.Null(NetTableParser.ParseUnixLine("Num       RefCount Protocol Flags    Type St Inode Path"));
    }

    [Fact]
    public void SkipsGarbage()
    {
        Assert.Empty(NetTableParser.ParseInet("garbage\n 0: zz:zz 00 00\n", "TCP"));
        Assert.Empty(NetTableParser.ParseUnix("Num RefCount\nnot a line at all\n"));
    }

    [Theory]
    [InlineData("inotify wd:1 ino:3c570 sdev:fe00000 mask:100000000 ignored_mask:0")]
    [InlineData("inotify wd:80000000 ino:3c570 sdev:fe00000 mask:fff ignored_mask:0")]
    [InlineData("fanotify ino:3c570 sdev:fe00000 mflags:0 mask:100000000 ignored_mask:0")]
    [InlineData("fanotify mnt_id:1ffffffff mflags:0 mask:1 ignored_mask:0")]
    [InlineData("fanotify flags:100000000 event-flags:0")]
    public void RefusesAFieldWiderThanItsBitsInsteadOfCuttingIt(string line)
    {
        var info = FdInfoParser.Parse("pos:\t0\nflags:\t02\nmnt_id:\t15\n" + line + "\n");
        var error = Assert.Single(info.Errors);
        Assert.Contains("does not fit", error.Reason);
        Assert.Empty(info.InotifyWatches);
        Assert.Empty(info.FanotifyMarks);
    }
}
