using System.Linq;
using EpollTools.Core;
using EpollTools.Core.Proc;
using EpollTools.Core.Tracing.Exact;
using Xunit;

namespace EpollTools.Tests.Tracing;

/// <summary>
/// Measure-MultiplexerWait -By Registration and -By SharedFile, pure parts: the delivery maps as bpftrace 0.17
/// printed them here, and the matching of deliveries (by data) to the interest lists read at the start and the end.
/// </summary>
public sealed class DeliveryStatisticsTests
{
    private static string NameOf(int pid, int? tid) => tid is null ? "server" : $"t{tid}";

    private static KnownRegistration Registered(int pid, int epollFd, int instance, int fd, ulong data, ulong inode, EpollEvents events = EpollEvents.In)
        => new(pid, epollFd, instance, fd, events, data, inode, "0:9", $"socket {inode}");

    [Fact]
    public void ReadsTheDeliveryMapsAndWhatWasNotCounted()
    {
        var maps = new[]
        {
            // A u64 key prints unsigned; 18446744073709551615 is data ~0.
            "{\"@delivered\": {\"10,11,4,7,1\": 30, \"10,11,4,18446744073709551615,17\": 2}}",
            "{\"@read\": {\"10\": 35}}",
            "{\"@beyond\": {\"10\": 3}}",
            "{\"@early\": {\"10\": 1}}",
            "{\"@calls\": {\"10,11,0,4\": 9}}",
        };
        var read = DeliveryMaps.Read(maps);
        Assert.Equal(2, read.Counts.Count);
        Assert.Contains(new DeliveryCount(10, 11, 4, 7, EpollEvents.In, 30), read.Counts);
        Assert.Contains(new DeliveryCount(10, 11, 4, ulong.MaxValue, EpollEvents.In | EpollEvents.Hup, 2), read.Counts);
        Assert.Equal((3L, 3L, 1L), (read.Beyond, read.NotCounted, read.BegunBefore)); // 35 read, 32 in the map: 3 refused
    }

    [Fact]
    public void MatchesDataToTheRegistrationOfTheEndOrElseTheStartAndSaysWhatItCannotTell()
    {
        var counts = new[]
        {
            new DeliveryCount(10, 11, 4, 0x5, EpollEvents.In, 40),
            new DeliveryCount(10, 12, 4, 0x5, EpollEvents.In | EpollEvents.RdHup, 2),
            new DeliveryCount(10, 11, 4, 0x6, EpollEvents.Out, 7), // removed before the end: the start knows it
            new DeliveryCount(10, 11, 4, 0x0, EpollEvents.In, 3), // two registrations carry data 0
            new DeliveryCount(10, 11, 4, 0xa1, EpollEvents.In, 1), // neither read has these two
            new DeliveryCount(10, 11, 4, 0xa2, EpollEvents.In, 1),
        };
        var atStart = new[] { Registered(10, 4, 1, 5, 0x5, 100), Registered(10, 4, 1, 6, 0x6, 101) };
        var atEnd = new[] { Registered(10, 4, 1, 5, 0x5, 100), Registered(10, 4, 1, 8, 0x0, 102), Registered(10, 4, 1, 9, 0x0, 103) };

        var rows = DeliveryStatistics.ByRegistration(counts, atStart, atEnd, NameOf);
        Assert.Equal(4, rows.Count);

        var five = rows[0];
        Assert.Equal((5, 42L, "socket 100", (ulong?)100), (five.Fd!.Value, five.Events, five.Target, five.Inode));
        Assert.Equal(new[] { ("IN", 40L), ("IN|RDHUP", 2L) }, five.ByMask.Select(m => (m.Flags, m.Count)));
        Assert.Equal(new[] { (11, 40L), (12, 2L) }, five.ByThread.Select(t => (t.ThreadId!.Value, t.Events)));
        Assert.Null(five.Note);

        var six = Assert.Single(rows, r => r.Data == 0x6);
        Assert.Equal((6, 7L), (six.Fd!.Value, six.Events));

        var shared = Assert.Single(rows, r => r.Data == 0x0 && r.Note is not null && r.Note.Contains("cannot be told apart"));
        Assert.Null(shared.Fd);
        Assert.Equal("one of fds 8, 9", shared.Target);

        var gone = Assert.Single(rows, r => r.Target == "(2 registrations not there at the start or the end)");
        Assert.Equal((2L, (int?)null), (gone.Events, gone.Fd));
        Assert.Contains("data 0xa1, 0xa2", gone.Note);
    }

    [Fact]
    public void ASharedFileListsEveryWatcherAndWhoReceivedItsEvents()
    {
        var ex = EpollEvents.In | EpollEvents.Exclusive;
        var atEnd = Enumerable.Range(0, 4).Select(i => Registered(20 + i, 4, i + 1, 3, 3, 500, ex)).Append(Registered(20, 4, 1, 7, 7, 501)).ToArray();
        var counts = new[] { new DeliveryCount(20, 20, 4, 3, EpollEvents.In, 38), new DeliveryCount(21, 21, 4, 3, EpollEvents.In, 2) };

        var file = Assert.Single(DeliveryStatistics.BySharedFile(counts, atEnd, atEnd, NameOf));
        Assert.Equal((500UL, 4, true, 40L), (file.Inode, file.Watchers, file.Exclusive, file.Events));
        Assert.Equal(new int?[] { 20, 21, null, null }, file.Receivers.Select(r => r.ThreadId));
        Assert.Equal(new[] { 20, 21, 22, 23 }, file.Receivers.Select(r => r.ProcessId));
        Assert.Equal(0.95, file.Receivers[0].Share, 3);
        Assert.StartsWith("one of 4 watchers, 20 (server) thread 20, received 38 of 40 events (95", file.Finding);
        Assert.Contains("EPOLLEXCLUSIVE", file.Finding);
    }

    [Fact]
    public void OneInstanceInTwoProcessesIsOneWatcher()
    {
        // A worker forked after epoll_create1 holds its parent's instance: the same registration, seen from both.
        var atEnd = new[] { Registered(30, 4, 1, 3, 3, 600), Registered(31, 4, 1, 3, 3, 600) };
        var counts = new[] { new DeliveryCount(30, 30, 4, 3, EpollEvents.In, 5), new DeliveryCount(31, 31, 4, 3, EpollEvents.In, 5) };
        var file = Assert.Single(DeliveryStatistics.BySharedFile(counts, atEnd, atEnd, NameOf));
        Assert.Equal(1, file.Watchers);
        Assert.Equal(2, file.Receivers.Count);
        Assert.Null(file.Finding);
    }

    [Fact]
    public void AnonymousFilesAreOneFileOnlyWhereKcmpSaysSo()
    {
        // Two eventfds of this process: one anonymous inode for both, as fdinfo shows it; kcmp tells them apart.
        using var first = EventFd.Create();
        using var second = EventFd.Create();
        int me = System.Environment.ProcessId;
        KnownRegistration Anonymous(int epollFd, int instance, int fd) => Registered(me, epollFd, instance, fd, (ulong)fd, 1038) with { Anonymous = true };
        var atEnd = new[] { Anonymous(50, 1, first.Fd), Anonymous(51, 2, second.Fd) };
        var counts = new[] { new DeliveryCount(me, me, 50, (ulong)first.Fd, EpollEvents.In, 3), new DeliveryCount(me, me + 1, 51, (ulong)second.Fd, EpollEvents.In, 3) };
        Assert.Empty(DeliveryStatistics.BySharedFile(counts, atEnd, atEnd, NameOf)); // two files, each in one instance

        var shared = new[] { Anonymous(50, 1, first.Fd), Anonymous(51, 2, first.Fd) with { Data = 99 } };
        var file = Assert.Single(DeliveryStatistics.BySharedFile(counts, shared, shared, NameOf)); // one file in two instances
        Assert.Equal(2, file.Watchers);
    }

    [Theory]
    [InlineData(19, 19, 4, null)]
    [InlineData(18, 20, 4, "one of 4")]
    [InlineData(17, 20, 4, null)]
    [InlineData(40, 40, 1, null)]
    public void NamesASkewOnlyWhenSeveralWatchersHadEnoughEvents(long top, long total, int watchers, string? finding)
    {
        var receivers = new[] { new DeliveryReceiver { ProcessId = 1, ProcessName = "w", ThreadId = 1, Events = top } };
        string? said = DeliveryStatistics.Skew(receivers, total, watchers, exclusive: false);
        if (finding is null)
        {
            Assert.Null(said);
        }
        else
        {
            Assert.StartsWith(finding, said);
        }
    }
}
