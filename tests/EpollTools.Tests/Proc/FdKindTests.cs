using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Kinds;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>
/// Each fd kind on captured inputs, without /proc: which links it claims, its own fdinfo lines, and its description,
/// given the fdinfo, statx and host answers a scan would read (captured samples and tables here).
/// </summary>
public sealed class FdKindTests
{
    private const int Pid = 4242;

    /// <summary>Captured host answers: the sockets of a namespace, the holders of pipes, process names.</summary>
    private sealed class Host : IFdNeighbours
    {
        public Dictionary<ulong, SocketEntry> Sockets { get; } = new();

        public Dictionary<ulong, string> SocketHolders { get; } = new();

        public Dictionary<string, PipeHolder[]> Pipes { get; } = new();

        public SocketEntry? FindSocket(int pid, ulong inode) => Sockets.GetValueOrDefault(inode);

        public string? SocketHolderOf(ulong inode) => SocketHolders.GetValueOrDefault(inode);

        public IReadOnlyList<PipeHolder> PipeHolders(string link) => Pipes.GetValueOrDefault(link) ?? Array.Empty<PipeHolder>();

        public string NameOf(int pid) => pid == 1 ? "systemd" : "?";
    }

    private static FdTarget Target(string link, string? fdinfoSample = null, FileStatus? status = null, FdAccess access = FdAccess.None, Host? host = null, int fd = 9)
        => FdTarget.Given(Pid, fd, link, host ?? new Host(),
            () => fdinfoSample is null ? null : FdInfoParser.Parse(FdInfoParserTests.Sample(fdinfoSample)),
            () => status,
            () => access);

    private static (TargetKind Kind, string Description) Describe(FdTarget target) => FdKinds.Describe(target);

    private static FileStatus OfType(int type, uint rdevMajor = 0, uint rdevMinor = 0) => new(type | 0x1a4, 77, 0, 5, rdevMajor, rdevMinor);

    [Theory]
    [InlineData("socket:[51487]", typeof(SocketKind))]
    [InlineData("pipe:[9]", typeof(PipeKind))]
    [InlineData("anon_inode:[eventfd]", typeof(EventFdKind))]
    [InlineData("anon_inode:[timerfd]", typeof(TimerFdKind))]
    [InlineData("anon_inode:[signalfd]", typeof(SignalFdKind))]
    [InlineData("anon_inode:[eventpoll]", typeof(EpollKind))]
    [InlineData("anon_inode:inotify", typeof(InotifyKind))]
    [InlineData("anon_inode:[fanotify]", typeof(FanotifyKind))]
    [InlineData("anon_inode:[pidfd]", typeof(PidFdKind))]
    [InlineData("anon_inode:[io_uring]", typeof(OtherAnonInodeKind))]
    [InlineData("/var/log/app.log", typeof(PathFileKind))]
    public void EachLinkIsClaimedByItsKind(string link, Type expected)
    {
        bool statAsked = false;
        var kind = FdKinds.Of(FdTarget.Given(Pid, 9, link, new Host(), () => null, () =>
        {
            statAsked = true;
            return OfType(StatxConstants.S_IFREG);
        }, () => FdAccess.None));
        Assert.IsType(expected, kind);

        // Only a file with a path needs its type to be known (a FIFO is a pipe).
        Assert.Equal(link.StartsWith('/'), statAsked);
    }

    [Fact]
    public void AFifoIsAPipeByItsType()
    {
        Assert.IsType<PipeKind>(FdKinds.Of(Target("/run/app.fifo", status: OfType(StatxConstants.S_IFIFO))));
        var host = new Host();
        host.Pipes["/run/app.fifo"] = new[] { new PipeHolder(Pid, "app", 9, Reads: true, Writes: false), new PipeHolder(77, "writer", 3, Reads: false, Writes: true) };
        Assert.Equal((TargetKind.Fifo, "/run/app.fifo read end; writers: 77 writer fd 3"), Describe(Target("/run/app.fifo", status: OfType(StatxConstants.S_IFIFO), host: host)));
    }

    [Fact]
    public void APipeNamesTheHoldersOfItsOtherEndOrThatNoneIsLeft()
    {
        var host = new Host();
        host.Pipes["pipe:[9]"] = Enumerable.Range(1, 10).Select(i => new PipeHolder(100 + i, "w", 4, Reads: false, Writes: true))
            .Prepend(new PipeHolder(Pid, "reader", 9, Reads: true, Writes: false)).ToArray();
        var (kind, text) = Describe(Target("pipe:[9]", host: host));
        Assert.Equal(TargetKind.Pipe, kind);
        Assert.Equal("pipe:[9] read end; writers: 101 w fd 4, 102 w fd 4, 103 w fd 4, 104 w fd 4, 105 w fd 4, 106 w fd 4, 107 w fd 4, 108 w fd 4, +2 more", text);

        host.Pipes["pipe:[9]"] = new[] { new PipeHolder(Pid, "reader", 9, Reads: true, Writes: false) };
        Assert.Equal("pipe:[9] read end; writers: none", Describe(Target("pipe:[9]", host: host)).Description);

        // Not even this fd in the listing: the pipe is newer than it, and its end comes from the fd's own access.
        Assert.Equal("pipe:[9] write end; readers: not known (opened after this call listed the host's fds)",
            Describe(Target("pipe:[9]", access: FdAccess.Write)).Description);
    }

    [Fact]
    public void ASocketIsDescribedFromItsNamespacesTableWithItsPeersHolder()
    {
        var host = new Host();
        var unix = NetTableParser.ParseUnix(FdInfoParserTests.Sample("net-unix.txt")).ToDictionary(s => s.Inode);
        host.Sockets[51487] = unix[51487];
        Assert.Equal((TargetKind.Socket, "UNIX STREAM LISTEN /tmp/fx.sock"), Describe(Target("socket:[51487]", host: host)));

        host.Sockets[5] = new SocketEntry(5, "UNIX", "STREAM CONNECTED", null, null, null, null, string.Empty, PeerInode: 6, ReceiveQueue: 25);
        host.SocketHolders[6] = "77:3 (peer)";
        Assert.Equal("UNIX STREAM CONNECTED, 25 bytes unread, peer socket:[6] held by 77:3 (peer)", Describe(Target("socket:[5]", host: host)).Description);

        Assert.Equal($"socket:[8] (not in /proc/{Pid}/net: netlink, packet or another family)", Describe(Target("socket:[8]", host: host)).Description);
    }

    [Fact]
    public void AnEventFdSaysItsCounterFromItsFdInfo()
    {
        Assert.Equal((TargetKind.EventFd, "eventfd count=5 id=1"), Describe(Target("anon_inode:[eventfd]", "fdinfo-eventfd.txt")));
        Assert.Equal("eventfd count=5", Describe(Target("anon_inode:[eventfd]", "fdinfo-eventfd-old.txt")).Description);
        Assert.Equal("eventfd", Describe(Target("anon_inode:[eventfd]")).Description); // closed before its fdinfo was read
    }

    [Fact]
    public void ATimerFdSaysItsClockAndWhenItFires()
    {
        Assert.Equal((TargetKind.TimerFd, "timerfd MONOTONIC next in 592.589s, every 30s"), Describe(Target("anon_inode:[timerfd]", "fdinfo-timerfd.txt")));
        var info = FdInfoParser.Parse("clockid: 0\nit_value: (0, 0)\nit_interval: (0, 0)\n");
        Assert.Equal(0, info.TimerFd!.ClockId);
        Assert.Equal(TimeSpan.Zero, info.TimerFd.Value);
    }

    [Fact]
    public void ASignalFdNamesItsSignals()
        => Assert.Equal((TargetKind.SignalFd, "signalfd SIGUSR1,SIGUSR2"), Describe(Target("anon_inode:[signalfd]", "fdinfo-signalfd.txt")));

    [Fact]
    public void AnEpollFdCountsItsRegistrations()
        => Assert.Equal((TargetKind.Epoll, "epoll (11 registered: tfd 3,5,6,7,8,9,11,12,13,16)"), Describe(Target("anon_inode:[eventpoll]", "fdinfo-eventpoll.txt")));

    [Fact]
    public void InotifyAndFanotifyCountTheirWatchesAndMarks()
    {
        Assert.Equal((TargetKind.Inotify, "inotify (2 watches)"), Describe(Target("anon_inode:inotify", "fdinfo-inotify.txt")));
        Assert.Equal((TargetKind.Fanotify, "fanotify (2 marks)"), Describe(Target("anon_inode:[fanotify]", "fdinfo-fanotify.txt")));

        var fanotify = FdInfoParser.Parse(FdInfoParserTests.Sample("fdinfo-fanotify.txt"));
        Assert.Equal(0x10u, fanotify.FanotifyFlags);
        Assert.Equal(0x20, fanotify.FanotifyMarks[0].MntId); // printed in hexadecimal
    }

    [Fact]
    public void APidFdNamesItsProcessOrThatItExited()
    {
        Assert.Equal((TargetKind.PidFd, "pidfd of 1 systemd"), Describe(Target("anon_inode:[pidfd]", "fdinfo-pidfd.txt")));
        var exited = FdInfoParser.Parse("Pid:\t-1\nNSpid:\t-1\n");
        Assert.Equal(-1, exited.PidFdPid);
        Assert.Equal(new[] { -1 }, exited.PidFdNsPids);
    }

    [Fact]
    public void FilesWithAPathAreDescribedByTheirType()
    {
        Assert.Equal((TargetKind.RegularFile, "/var/log/app.log"), Describe(Target("/var/log/app.log", status: OfType(StatxConstants.S_IFREG))));
        Assert.Equal((TargetKind.Directory, "/tmp"), Describe(Target("/tmp", status: OfType(StatxConstants.S_IFDIR))));
        Assert.Equal((TargetKind.CharDevice, "/dev/null (char 1:3)"), Describe(Target("/dev/null", status: OfType(StatxConstants.S_IFCHR, 1, 3))));
        Assert.Equal((TargetKind.BlockDevice, "/dev/sda (block 8:0)"), Describe(Target("/dev/sda", status: OfType(StatxConstants.S_IFBLK, 8, 0))));
        Assert.Equal((TargetKind.Unknown, "/gone"), Describe(Target("/gone")));
        Assert.Equal((TargetKind.AnonInode, "anon_inode:[io_uring]"), Describe(Target("anon_inode:[io_uring]")));
    }

    [Fact]
    public void AKindsFieldsAreItsOwnAndUnknownFieldsAreKept()
    {
        // Each field goes to the one kind that knows it; the others decline it.
        var info = new ParsedFdInfo();
        Assert.Equal(new[] { typeof(EventFdKind) }, FdKinds.All.Where(k => k.TryParseField(info, "eventfd-count", "7")).Select(k => k.GetType()));
        Assert.Equal(7ul, info.EventFd!.Count);
        Assert.DoesNotContain(FdKinds.All, k => k.TryParseField(new ParsedFdInfo(), "tty-index", "3"));

        var parsed = FdInfoParser.Parse("pos:\t0\ntty-index:\t3\n");
        Assert.Contains(parsed.Fields, f => f.Key == "tty-index" && f.Value == "3");
    }
}
