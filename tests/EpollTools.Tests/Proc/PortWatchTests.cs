using System.Linq;
using System.Net;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>-TargetPort's counting, on rows and sockets as a server with a listener and its connections has them.</summary>
public sealed class PortWatchTests
{
    private static readonly Diagnosis Disarmed = new() { Kind = DiagnosisKind.OneShotDisarmed, Summary = "one-shot fired, not re-armed", Explanation = "Re-arm it." };

    private static EpollInterest Row(int tfd, EpollEvents events, int epollFd = 8, params Diagnosis[] diagnoses) => new()
    {
        ProcessId = 100, ProcessName = "server", EpollFd = epollFd, EpollInode = 0x40e, Holders = new[] { $"100:{epollFd}" },
        TargetFd = tfd, Events = events, TargetKind = TargetKind.Socket, Diagnoses = diagnoses, WaitingThreadIds = new[] { 101 },
    };

    private static SocketEntry Listener(int port, long backlog) =>
        new(1, "TCP", "LISTEN", IPAddress.Loopback, port, IPAddress.Any, 0, null, ReceiveQueue: backlog);

    private static SocketEntry Connection(int port, string state, long unread) =>
        new(2, "TCP", state, IPAddress.Loopback, port, IPAddress.Loopback, 50000, null, ReceiveQueue: unread);

    [Fact]
    public void CountsAListenerAndItsConnectionsByStateWithWhatWaitsInTheirQueues()
    {
        var rows = new (EpollInterest, SocketEntry?)[]
        {
            (Row(3, EpollEvents.In), Listener(8080, 2)),
            (Row(5, EpollEvents.In | EpollEvents.ET), Connection(8080, "ESTABLISHED", 25)),
            (Row(6, EpollEvents.In | EpollEvents.ET), Connection(8080, "ESTABLISHED", 0)),
            (Row(7, EpollEvents.OneShot, diagnoses: Disarmed), Connection(8080, "CLOSE_WAIT", 1)),
        };

        var watch = Assert.Single(PortWatches.Summarize(rows));
        Assert.Equal(8080, watch.Port);
        Assert.Equal(1, watch.Listening);
        Assert.Equal(3, watch.Connections);
        Assert.Equal("ESTABLISHED 2, CLOSE_WAIT 1", watch.States);
        Assert.Equal(2, watch.NotYetAccepted);
        Assert.Equal(26, watch.BytesUnread);
        Assert.Equal("IN|ET 2, IN 1, ONESHOT 1", watch.RequestedFlags);
        Assert.Equal(new[] { 101 }, watch.WaitingThreadIds);
        var diagnosis = Assert.Single(watch.Diagnoses);
        Assert.Equal(DiagnosisKind.OneShotDisarmed, diagnosis.Kind);
        Assert.Equal("1 of 4 sockets: one-shot fired, not re-armed (fd 7)", diagnosis.Summary);
    }

    [Fact]
    public void GivesOneObjectPerInstanceAndPortAndNamesAFewFdsOfADiagnosisOnMany()
    {
        var rows = Enumerable.Range(10, 8).Select(fd => (Row(fd, EpollEvents.OneShot, diagnoses: Disarmed), (SocketEntry?)Connection(80, "ESTABLISHED", 0)))
            .Append((Row(3, EpollEvents.In, epollFd: 9), Listener(80, 0)))
            .Append((Row(4, EpollEvents.In), Listener(443, 0)))
            .Append((Row(30, EpollEvents.In), null)); // a socket whose line was not found: not counted
        var watches = PortWatches.Summarize(rows);
        Assert.Equal(new[] { (8, 80), (9, 80), (8, 443) }, watches.Select(w => (w.EpollFd, w.Port)));
        Assert.Equal("8 of 8 sockets: one-shot fired, not re-armed (fd 10, 11, 12, 13, 14 and 3 more)", watches[0].Diagnoses.Single().Summary);
    }

    [Fact]
    public void KeepsALoneSocketsDiagnosesAsTheyAre()
    {
        var watch = Assert.Single(PortWatches.Summarize(new (EpollInterest, SocketEntry?)[] { (Row(3, EpollEvents.OneShot, diagnoses: Disarmed), Listener(80, 0)) }));
        Assert.Same(Disarmed, watch.Diagnoses.Single());
    }
}
