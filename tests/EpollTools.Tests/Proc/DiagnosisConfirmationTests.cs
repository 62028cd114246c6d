using System.Linq;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>What a second look keeps of the diagnoses of the first (pure: both looks are given).</summary>
public sealed class DiagnosisConfirmationTests
{
    private static readonly ThreadSyscall InWait = TaskParser.ParseSyscall("281 0x3 0x7f0 0x8 0xffffffff 0x0 0x8 0x7f8 0x7f9")!;
    private static readonly ThreadSyscall InOtherWait = TaskParser.ParseSyscall("281 0x5 0x7f0 0x8 0xffffffff 0x0 0x8 0x7f8 0x7f9")!;

    private static MultiplexerWait Wait(ThreadSyscall syscall, string runStamp, params DiagnosisKind[] kinds) => new()
    {
        ProcessId = 10,
        ThreadId = 11,
        Syscall = syscall,
        RunStamp = runStamp,
        Diagnoses = kinds.Select(kind => new Diagnosis { Kind = kind, Summary = kind.ToString() }).ToArray(),
    };

    [Fact]
    public void KeepsAWaitDiagnosisSeenAgainOnAThreadThatHasNotRun()
    {
        var first = Wait(InWait, "100 5 2", DiagnosisKind.SeveralWaiters, DiagnosisKind.Stopped);
        DiagnosisConfirmation.ConfirmWaits(new[] { first }, new[] { Wait(InWait, "100 5 2", DiagnosisKind.Stopped) });
        Assert.Equal(new[] { DiagnosisKind.Stopped }, first.Diagnoses.Select(d => d.Kind));
    }

    [Theory]
    [InlineData("100 9 3", false)] // it ran in between
    [InlineData("100 5 2", true)]  // another call
    public void DropsEveryDiagnosisOfAThreadThatMoved(string laterStamp, bool otherCall)
    {
        var first = Wait(InWait, "100 5 2", DiagnosisKind.EmptyInterestList);
        DiagnosisConfirmation.ConfirmWaits(new[] { first }, new[] { Wait(otherCall ? InOtherWait : InWait, laterStamp, DiagnosisKind.EmptyInterestList) });
        Assert.Empty(first.Diagnoses);
    }

    [Fact]
    public void DropsTheDiagnosesOfAThreadGoneOnTheSecondLook()
    {
        var first = Wait(InWait, "1 1 1", DiagnosisKind.HeldByTracer);
        DiagnosisConfirmation.ConfirmWaits(new[] { first }, Enumerable.Empty<MultiplexerWait>());
        Assert.Empty(first.Diagnoses);
    }

    private static EpollInterest Row(EpollEvents events, params DiagnosisKind[] kinds) => new()
    {
        TargetFd = 4,
        TargetInode = 77,
        Events = events,
        Diagnoses = kinds.Select(kind => new Diagnosis { Kind = kind }).ToArray(),
    };

    [Fact]
    public void KeepsARegistrationDiagnosisOnlyIfAWaiterStayedBlockedAndItHoldsAgain()
    {
        const EpollEvents Et = EpollEvents.In | EpollEvents.ET;
        var confirmed = Row(Et, DiagnosisKind.EdgeTriggeredUnread, DiagnosisKind.ExclusiveMix);
        RegistrationConfirmation.Confirm(new[] { confirmed }, new[] { Row(Et, DiagnosisKind.EdgeTriggeredUnread) }, waiterStillBlocked: true);
        Assert.Equal(new[] { DiagnosisKind.EdgeTriggeredUnread, DiagnosisKind.ExclusiveMix }, confirmed.Diagnoses.Select(d => d.Kind));

        // Read by the program meanwhile: gone on the second look. The mask's own finding stands.
        var read = Row(Et, DiagnosisKind.EdgeTriggeredUnread, DiagnosisKind.ExclusiveMix);
        RegistrationConfirmation.Confirm(new[] { read }, new[] { Row(Et) }, waiterStillBlocked: true);
        Assert.Equal(new[] { DiagnosisKind.ExclusiveMix }, read.Diagnoses.Select(d => d.Kind));

        // Still ready, but no thread stayed blocked on the instance: a busy loop that will get to it.
        var busy = Row(Et, DiagnosisKind.EdgeTriggeredUnread);
        RegistrationConfirmation.Confirm(new[] { busy }, new[] { Row(Et, DiagnosisKind.EdgeTriggeredUnread) }, waiterStillBlocked: false);
        Assert.Empty(busy.Diagnoses);

        // Modified meanwhile: another registration, whatever it shows.
        var modified = Row(Et, DiagnosisKind.EdgeTriggeredUnread);
        RegistrationConfirmation.Confirm(new[] { modified }, new[] { Row(EpollEvents.In | EpollEvents.Out | EpollEvents.ET, DiagnosisKind.EdgeTriggeredUnread) }, waiterStillBlocked: true);
        Assert.Empty(modified.Diagnoses);
    }
}
