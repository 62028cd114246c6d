using System.Linq;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>The diagnoses as pure functions of what was read: registrations as the scanner builds them, and fdinfo captured from this kernel.</summary>
public sealed class DiagnosisTests
{
    private static readonly EpollEvents Always = EpollEvents.Err | EpollEvents.Hup;

    private static EpollInterest Row(EpollEvents events, EpollEvents? ready = null, TargetKind kind = TargetKind.EventFd,
        RegistrationState state = RegistrationState.Current, string? staleReason = null, int? stillOpenAs = null) => new()
    {
        ProcessId = 100,
        EpollFd = 3,
        TargetFd = 4,
        Events = events,
        Data = 0x5005,
        TargetKind = kind,
        State = state,
        StaleReason = staleReason,
        StillOpenAs = stillOpenAs,
        ReadyEvents = ready,
    };

    private static DiagnosisKind[] Kinds(EpollInterest row) => RegistrationDiagnoses.Of(row).Select(d => d.Kind).ToArray();

    [Fact]
    public void AFiredOneShotReadsBackAsItsFlagsAlone()
    {
        Assert.Equal(new[] { DiagnosisKind.OneShotDisarmed }, Kinds(Row(EpollEvents.OneShot)));
        Assert.Equal(new[] { DiagnosisKind.OneShotDisarmed }, Kinds(Row(EpollEvents.OneShot | EpollEvents.ET)));
        Assert.Empty(Kinds(Row(EpollEvents.In | EpollEvents.OneShot | Always)));   // armed
        Assert.Empty(Kinds(Row(EpollEvents.ET)));                                     // not one-shot
        Assert.Contains("EPOLL_CTL_MOD", RegistrationDiagnoses.Of(Row(EpollEvents.OneShot)).Single().Explanation);
    }

    [Fact]
    public void EdgeTriggeredInputReadyNowIsNamedOnlyWithReadiness()
    {
        var edge = EpollEvents.In | EpollEvents.ET | Always;
        Assert.Empty(Kinds(Row(edge)));                                              // readiness not read: nothing guessed
        var unread = RegistrationDiagnoses.Of(Row(edge, EpollEvents.In | EpollEvents.Out)).Single();
        Assert.Equal(DiagnosisKind.EdgeTriggeredUnread, unread.Kind);
        Assert.Equal("edge-triggered, IN ready now", unread.Summary);
        Assert.Empty(Kinds(Row(edge, EpollEvents.Out)));                            // writable is not unread input
        Assert.Empty(Kinds(Row(EpollEvents.Out | EpollEvents.ET | Always, EpollEvents.In))); // input not asked for
        Assert.Empty(Kinds(Row(EpollEvents.In | Always, EpollEvents.In)));          // level-triggered: it would wake
    }

    [Fact]
    public void APipeSaysWhichEndIsGoneFromHupAndErr()
    {
        Assert.Equal(new[] { DiagnosisKind.WritersGone }, Kinds(Row(EpollEvents.In | Always, EpollEvents.Hup, TargetKind.Pipe)));
        Assert.Equal(new[] { DiagnosisKind.WritersGone }, Kinds(Row(EpollEvents.In | Always, EpollEvents.Hup, TargetKind.Fifo)));
        Assert.Equal(new[] { DiagnosisKind.ReadersGone }, Kinds(Row(EpollEvents.Out | Always, EpollEvents.Out | EpollEvents.Err, TargetKind.Pipe)));
        Assert.Empty(Kinds(Row(EpollEvents.In | Always, EpollEvents.Hup, TargetKind.Socket)));   // a socket's HUP means something else
        Assert.Empty(Kinds(Row(EpollEvents.In | Always, EpollEvents.In, TargetKind.Pipe)));
    }

    [Fact]
    public void AStaleRegistrationIsSaidPlainlyWithWhereTheFileLivesOn()
    {
        var closed = RegistrationDiagnoses.Of(Row(EpollEvents.In | Always, state: RegistrationState.Stale, staleReason: "fd 4 is closed", stillOpenAs: 7)).Single();
        Assert.Equal(DiagnosisKind.ClosedFdRegistered, closed.Kind);
        Assert.Equal("fd 4 closed, still registered", closed.Summary);
        Assert.Contains("as fd 7 of this process", closed.Explanation);
        Assert.Contains("0x5005", closed.Explanation);

        var reused = RegistrationDiagnoses.Of(Row(EpollEvents.In | Always, state: RegistrationState.Stale, staleReason: "fd 4 now refers to another file (pipe:[9])")).Single();
        Assert.Equal("fd 4 reused, old file registered", reused.Summary);
        Assert.Contains("elsewhere", reused.Explanation);

        Assert.Empty(Kinds(Row(EpollEvents.In | Always, state: RegistrationState.Unknown)));
    }

    [Fact]
    public void AFileInSeveralInstancesWithAndWithoutExclusiveIsAMix()
    {
        var exclusive = FdInfoParser.Parse(FdInfoParserTests.Sample("fdinfo-eventpoll-exclusive.txt"));
        var plain = FdInfoParser.Parse(FdInfoParserTests.Sample("fdinfo-eventpoll-plain.txt"));
        var listener = new EpollInterest { TargetInode = 0xb943, TargetDevice = "0:9" };

        var mix = SharedTargets.Build(new[] { ("10:3", exclusive), ("10:5", exclusive), ("10:6", plain) }).For(listener);
        Assert.NotNull(mix);
        Assert.Equal(DiagnosisKind.ExclusiveMix, mix!.Kind);
        Assert.Equal("3 instances, 2 EXCLUSIVE", mix.Summary);
        Assert.Contains("with EXCLUSIVE in 10:3, 10:5, without in 10:6", mix.Explanation);

        Assert.Null(SharedTargets.Build(new[] { ("10:3", exclusive), ("10:5", exclusive) }).For(listener));
        Assert.Null(SharedTargets.Build(new[] { ("10:6", plain), ("11:6", plain) }).For(listener));
        Assert.Null(SharedTargets.None.For(listener));
    }

    [Fact]
    public void EventfdsOnTheSharedAnonymousInodeAreNotOneFile()
    {
        // Two different eventfds, one registered EXCLUSIVE: both show ino 40e (the anon inode every eventfd shares).
        var first = FdInfoParser.Parse(FdInfoParserTests.Sample("fdinfo-eventpoll-exclusive-eventfd.txt"));
        var second = FdInfoParser.Parse(FdInfoParserTests.Sample("fdinfo-eventpoll-plain-eventfd.txt"));
        Assert.Equal(first.EpollTargets.Single().Ino, second.EpollTargets.Single().Ino);

        var anyEventFd = new EpollInterest { TargetInode = first.EpollTargets.Single().Ino, TargetDevice = first.EpollTargets.Single().Device };
        Assert.Null(SharedTargets.Build(new[] { ("10:5", first), ("10:6", second) }).For(anyEventFd));
    }
}
