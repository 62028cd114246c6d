using System.Linq;
using EpollTools.Core;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using EpollTools.Core.Tracing.Exact;
using Xunit;

namespace EpollTools.Tests.Tracing;

/// <summary>
/// The exact trace's pure parts on lines bpftrace printed here (captured from a run of tests/fixtures/exact-sequence.c
/// and a Python program): the record parser, and the interest changes the records make.
/// </summary>
public sealed class ExactTraceTests
{
    /// <summary>A pid no process has (above pid_max), so that no name is read from /proc for it.</summary>
    private const int Pid = 99_999_999;

    private static EpollCallRecord Record(string line) => EpollCallRecord.Parse(line) ?? throw new Xunit.Sdk.XunitException($"not parsed: {line}");

    [Fact]
    public void ParsesEachKindOfLine()
    {
        var ctl = Record($"C 28654217783446 {Pid} {Pid} 3 1 4 1 4 -17");
        Assert.Equal((EpollCall.Ctl, 28654217783446UL, 3, 1, 4, 1u, 4UL, -17L), (ctl.Call, ctl.Nanoseconds, ctl.EpollFd, ctl.Op, ctl.Fd, ctl.Events, ctl.Data, ctl.Result));
        var wait = Record($"W 28654114572806 {Pid} 7 3 0 0");
        Assert.Equal((EpollCall.WaitReturn, 7, 3, 0, 0L, false), (wait.Call, wait.Tid, wait.EpollFd, wait.TimeoutSign, wait.Result, wait.CarriesFirstEvent));
        var withFirst = Record($"W 28654114572806 {Pid} 7 3 -1 2 1 4096");
        Assert.Equal((2L, true, 1u, 4096UL), (withFirst.Result, withFirst.CarriesFirstEvent, withFirst.Events, withFirst.Data));
        var delivered = Record($"E 28654114588926 {Pid} {Pid} 3 0 1 18446744073709551615");
        Assert.Equal((EpollCall.Event, 0, 1u, ulong.MaxValue), (delivered.Call, delivered.Index, delivered.Events, delivered.Data));
        Assert.Equal(3, Record($"N 28654114391478 {Pid} {Pid} 3").Result);
        var close = Record($"X 28654217870639 {Pid} {Pid} 5 -9");
        Assert.Equal((EpollCall.Close, 5, -9L), (close.Call, close.Fd, close.Result));
        var dup = Record($"D 1 {Pid} {Pid} 4 9 9");
        Assert.Equal((EpollCall.Dup, 4, 9, 9L), (dup.Call, dup.OldFd, dup.Fd, dup.Result));
        var fork = Record($"F 2 {Pid} {Pid} 4242 0");
        Assert.Equal((EpollCall.Fork, 4242, false), (fork.Call, fork.Child, fork.Thread));
        Assert.True(Record($"F 2 {Pid} {Pid} 4243 1").Thread);
        var exit = Record($"Q 3 {Pid} 4243 0");
        Assert.Equal((EpollCall.Exit, 4243, false), (exit.Call, exit.Tid, exit.ProcessEnded));
        Assert.True(Record($"Q 4 {Pid} {Pid} 1").ProcessEnded);
    }

    [Fact]
    public void AFollowedChildSharesItsParentsInstancesAndItsExitClosesItsCopies()
    {
        const int Child = Pid + 1;
        var tracer = new ExactInterestTracer(onlyEpollFd: null, follow: true);
        var changes = new[]
        {
            $"N 1 {Pid} {Pid} 3",
            $"F 2 {Pid} {Pid} 77 1",                    // a thread
            $"F 3 {Pid} {Pid} {Child} 0",               // a child process: it holds epoll fd 3
            $"C 4 {Child} {Child} 3 1 5 1 65 0",        // the child ADDs fd 5 (data 0x41) to the instance
            $"Q 5 {Child} {Child} 1",                   // and exits
            $"C 6 {Pid} {Pid} 3 2 5 0 0 0",             // the parent DELs what the child added
            $"Q 7 {Pid} 77 0",                          // the thread exits
        }.SelectMany(line => tracer.Apply(Record(line))).ToList();
        Assert.Equal(new[]
        {
            (InterestChangeKind.Created, Pid, 3), (InterestChangeKind.ThreadStarted, Pid, -1), (InterestChangeKind.Forked, Pid, -1),
            (InterestChangeKind.Added, Child, 3), (InterestChangeKind.Exited, Child, -1), (InterestChangeKind.InstanceClosed, Child, 3),
            (InterestChangeKind.Removed, Pid, 3), (InterestChangeKind.Exited, Pid, -1),
        }, changes.Select(c => (c.Change, c.ProcessId, c.EpollFd)));
        Assert.Equal("thread 77 started", changes[1].Detail);
        Assert.Equal($"child process {Child}: it holds its parent's epoll fd 3 (the same instance); traced from here on", changes[2].Detail);
        Assert.Equal("the process exited", changes[4].Detail);
        Assert.Equal(("IN 0x41", 0x41UL), (changes[6].Detail, changes[6].OldData!.Value)); // the parent's list has the child's ADD
        Assert.Equal("thread 77 exited", changes[7].Detail);
    }

    [Fact]
    public void AChildNotFollowedIsSaidAndItsCallsAreNotTheParents()
    {
        var tracer = new ExactInterestTracer(onlyEpollFd: null);
        var changes = new[] { $"N 1 {Pid} {Pid} 3", $"F 2 {Pid} {Pid} 4242 0" }.SelectMany(line => tracer.Apply(Record(line))).ToList();
        Assert.Equal("child process 4242: it holds its parent's epoll fd 3 (the same instance); not traced (-Follow traces children)", changes[1].Detail);
    }

    [Fact]
    public void PutsRecordsFromSeveralCpusBackInTheKernelsOrderOnceTheyAreOldEnough()
    {
        var held = new TimeOrderedRecords();
        foreach (string line in new[] { $"C 300 {Pid} 9 3 1 5 1 65 0", $"F 100 {Pid} {Pid} 9 0", $"W 200 {Pid} {Pid} 3 -1 1", $"E 200 {Pid} {Pid} 3 0 1 7" })
        {
            held.Add(Record(line));
        }

        Assert.Empty(held.Due(300 + TimeOrderedRecords.Window - 1 - 200));
        var first = held.Due(200 + TimeOrderedRecords.Window);
        Assert.Equal(new[] { EpollCall.Fork, EpollCall.WaitReturn, EpollCall.Event }, first.Select(r => r.Call)); // same time: as they came
        Assert.Equal(System.TimeSpan.FromTicks(1), held.UntilNextDue(200 + TimeOrderedRecords.Window)); // 100 ns
        Assert.Equal(EpollCall.Ctl, Assert.Single(held.All()).Call);
        Assert.Null(held.UntilNextDue(0));
    }

    [Theory]
    [InlineData("")]
    [InlineData("A")]
    [InlineData("C 1 2 3 4 5")]
    [InlineData("C x 2 3 4 5 6 7 8 9")]
    [InlineData("Z 1 2 3 4")]
    [InlineData("F 1 2 3 4")]
    [InlineData("W 1 2 3 4 5 99999999999999999999")]
    public void LeavesAnythingElseAlone(string line) => Assert.Null(EpollCallRecord.Parse(line));

    [Fact]
    public void TurnsTheCallsIntoChangesInOrder()
    {
        var tracer = new ExactInterestTracer(onlyEpollFd: null);
        var changes = new[]
        {
            $"N 100 {Pid} {Pid} 3",
            $"C 200 {Pid} {Pid} 3 1 4 1 17 0",           // ADD fd 4 IN, data 0x11
            $"C 300 {Pid} {Pid} 3 1 4 1 17 -17",         // again: EEXIST
            $"C 400 {Pid} {Pid} 3 3 4 1073741825 18 0",  // MOD IN|ONESHOT, data 0x12
            $"W 500 {Pid} {Pid} 3 0 1 1 18",             // a poll, one event on the wait's line: delivered, disarms
            $"W 600 {Pid} {Pid} 3 1 0",                  // a finite timeout that passed
            $"C 700 {Pid} {Pid} 3 3 4 1 19 0",           // MOD IN, data 0x13: re-armed
            $"C 800 {Pid} {Pid} 3 2 4 21875 139728693595808 0", // DEL (its event pointer is not read)
            $"W 900 {Pid} {Pid} 3 -1 -4",                // EINTR
        }.SelectMany(line => tracer.Apply(Record(line))).ToList();

        Assert.Equal(new[]
        {
            InterestChangeKind.Created, InterestChangeKind.Added, InterestChangeKind.Failed, InterestChangeKind.Modified, InterestChangeKind.Delivered,
            InterestChangeKind.Disarmed, InterestChangeKind.TimedOut, InterestChangeKind.Rearmed, InterestChangeKind.Removed, InterestChangeKind.Failed,
        }, changes.Select(c => c.Change));
        Assert.Equal(EpollEvents.In | EpollEvents.Err | EpollEvents.Hup, changes[1].Events);
        Assert.Equal("EEXIST", changes[2].Error);
        Assert.Equal((EpollEvents.In | EpollEvents.Err | EpollEvents.Hup | EpollEvents.OneShot, 0x11UL, 0x12UL), (changes[3].Events!.Value, changes[3].OldData!.Value, changes[3].Data!.Value));
        Assert.Equal((4, EpollEvents.In), (changes[4].TargetFd!.Value, changes[4].Events!.Value));
        Assert.Equal(EpollEvents.OneShot, changes[5].Events);
        Assert.Equal(0x13UL, changes[7].Data);
        Assert.Equal((0x13UL, (EpollEvents?)null), (changes[8].OldData!.Value, changes[8].Events));
        Assert.Equal("EINTR", changes[9].Error);
        Assert.Equal(0, tracer.RegistrationCount);
    }

    [Fact]
    public void KnowsARegistrationReadAtTheStartIsStaleWhenItsFdWasClosed()
    {
        // In this process, on the real kernel: an eventfd registered through a dup that is then closed without DEL.
        using var instance = EpollInstance.Create();
        using var eventFd = EventFd.Create();
        int copy = NativeMethods.dup(eventFd.Fd);
        instance.Add(copy, EpollEvents.In, 0x31);
        instance.Add(eventFd.Fd, EpollEvents.In, 0x11);
        NativeMethods.close(copy);
        int me = System.Environment.ProcessId;
        var tracer = new ExactInterestTracer(onlyEpollFd: null);
        tracer.Know(me, instance.Fd);
        var changes = new[] { $"W 1 {me} {me} {instance.Fd} -1 2 1 49", $"E 1 {me} {me} {instance.Fd} 1 1 17" }.SelectMany(line => tracer.Apply(Record(line))).ToList();
        Assert.Equal($"IN, event 1 of 2; fd {copy} is closed: a stale registration", changes[0].Detail);
        Assert.Equal("IN, event 2 of 2", changes[1].Detail); // the eventfd's own registration is current
        Assert.Equal(eventFd.Fd, changes[1].TargetFd);
    }

    [Fact]
    public void TellsAPollThatFoundNothingFromATimeoutThatPassed()
    {
        var tracer = new ExactInterestTracer(onlyEpollFd: null);
        var changes = new[] { $"W 1 {Pid} {Pid} 3 0 0", $"W 2 {Pid} {Pid} 3 1 0" }.SelectMany(line => tracer.Apply(Record(line))).ToList();
        Assert.Equal(new[] { "no event: a poll (zero timeout) found nothing ready", "no event: the timeout passed" }, changes.Select(c => c.Detail));
        Assert.All(changes, c => Assert.Equal(InterestChangeKind.TimedOut, c.Change));
    }

    [Fact]
    public void SaysWhenAWakeupHadMoreEventsThanAreRead()
    {
        var tracer = new ExactInterestTracer(onlyEpollFd: null);
        var changes = new[] { $"C 1 {Pid} {Pid} 3 1 4 1 7 0", $"W 2 {Pid} {Pid} 3 -1 12 1 7", $"E 2 {Pid} {Pid} 3 1 1 7", $"W 3 {Pid} {Pid} 3 -1 1 1 7" }
            .SelectMany(line => tracer.Apply(Record(line))).Where(c => c.Change == InterestChangeKind.Delivered).ToList();
        Assert.Equal($"IN, event 1 of 12; only the first {EpollCallProgram.EventsPerWakeup} of a wakeup are read", changes[0].Detail);
        Assert.Equal($"IN, event 2 of 12; only the first {EpollCallProgram.EventsPerWakeup} of a wakeup are read", changes[1].Detail);
        Assert.Equal("IN, event 1 of 1", changes[2].Detail);
    }

    [Fact]
    public void PlacesTheReturnOfAWaitBegunBeforeTheTraceOnTheInstanceItsThreadWasSeenWaitingOn()
    {
        var tracer = new ExactInterestTracer(onlyEpollFd: null);
        tracer.KnowWaiting(tid: 41, epollFd: 6);
        var changes = new[] { $"U 1 {Pid} 41 3", $"U 2 {Pid} 41 1", $"U 3 {Pid} 42 0" }.SelectMany(line => tracer.Apply(Record(line))).ToList();
        var only = Assert.Single(changes); // the thread's next wait is its own; another thread's is not placed
        Assert.Equal((InterestChangeKind.Delivered, 6, 41), (only.Change, only.EpollFd, only.ThreadId!.Value));
        Assert.Equal("3 event(s), not read: the wait began before the trace", only.Detail);
        Assert.Null(only.TargetFd);
    }

    [Fact]
    public void ReportsOnlyTheInstanceAskedFor()
    {
        var tracer = new ExactInterestTracer(onlyEpollFd: 7);
        var changes = new[] { $"N 1 {Pid} {Pid} 3", $"N 2 {Pid} {Pid} 7", $"C 3 {Pid} {Pid} 3 1 4 1 1 0", $"C 4 {Pid} {Pid} 7 1 4 1 1 0" }
            .SelectMany(line => tracer.Apply(Record(line))).ToList();
        Assert.Equal(new[] { (InterestChangeKind.Created, 7), (InterestChangeKind.Added, 7) }, changes.Select(c => (c.Change, c.EpollFd)));
    }

    [Fact]
    public void FollowsChildrenThroughAMapThePredicatesRead()
    {
        string alone = EpollCallProgram.For(new[] { 5 }, new EpollEventLayout(12, 4), sentinelPid: 77);
        Assert.DoesNotContain("@followed", alone);
        Assert.Contains("tracepoint:sched:sched_process_fork /pid == 5/", alone); // forks and exits are said either way
        string follow = EpollCallProgram.For(new[] { 5 }, new EpollEventLayout(12, 4), sentinelPid: 77, follow: true);
        Assert.Contains("tracepoint:syscalls:sys_enter_epoll_ctl /pid == 5 || @followed[pid]/", follow);
        Assert.Contains("if (!$thread) { @followed[args->child_pid] = 1; }", follow);
        Assert.Contains($"& {CloneConstants.CLONE_THREAD}) != 0", follow);
        Assert.True(follow.IndexOf("sched_process_exit", System.StringComparison.Ordinal) < follow.IndexOf("sys_enter_getppid", System.StringComparison.Ordinal));
    }

    [Fact]
    public void ReadsTheEventsAtTheLayoutsDataOffsetAndEndsWithTheAttachProbe()
    {
        string program = EpollCallProgram.For(new[] { 12, 5, 12 }, new EpollEventLayout(12, 4), sentinelPid: 77);
        Assert.Contains("tracepoint:syscalls:sys_enter_epoll_ctl /pid == 5 || pid == 12/", program);
        Assert.Contains("printf(\"U %llu", program);
        Assert.Contains("$at = $array + (uint64)($i * 12);", program);
        Assert.Contains("*(uint64 *)($at + 4)", program);
        Assert.Contains("*(uint64 *)($array + 4)", program); // the first event, on the wait's line
        Assert.Contains($"unroll({EpollCallProgram.EventsPerWakeup - 1})", program);
        int sentinel = program.IndexOf("tracepoint:syscalls:sys_enter_getppid /pid == 77/", System.StringComparison.Ordinal);
        Assert.True(sentinel > program.IndexOf("sched_process_exit", System.StringComparison.Ordinal), "the attach probe comes after every traced probe");
    }

    [Fact]
    public void ReadsThePerThreadStatisticsFromTheMapsBpftracePrinted()
    {
        // As bpftrace 0.17 printed them here for a loop (50 epoll_wait polls and 50 waits of 1 ms on epoll fd 3, then 4
        // polls, one interrupted wait): the key "pid,tid,call,fd", the call as MultiplexerCall numbers it, fd -1 for poll;
        // @outcome's fifth field is how the wait returned (1 events, 2 nothing, 3 EINTR, 4 failed; +8 a zero timeout).
        var maps = new[]
        {
            "{\"@blocked_us\": {\"2628,2628,0,3\": [{\"min\": 2, \"max\": 3, \"count\": 49}, {\"min\": 4, \"max\": 7, \"count\": 0}, {\"min\": 1024, \"max\": 2047, \"count\": 51}]}}",
            "{\"@outcome\": {\"2628,2628,3,-1,10\": 4, \"2628,2628,0,3,9\": 25, \"2628,2628,0,3,1\": 25, \"2628,2628,0,3,10\": 25, \"2628,2628,0,3,2\": 25, \"2628,2628,0,3,3\": 1}}",
            "{\"@events\": {\"2628,2628,0,3\": [{\"min\": 0, \"max\": 0, \"count\": 50}, {\"min\": 1, \"max\": 1, \"count\": 50}]}}",
        };
        var rows = WaitStatisticsProgram.Read(maps, 2.0, (pid, tid) => tid is null ? "python3" : "loop");
        Assert.Equal(2, rows.Count);
        var epoll = rows[0];
        Assert.Equal((2628, 2628, "python3", "loop", "epoll_wait", 3), (epoll.ProcessId, epoll.ThreadId, epoll.ProcessName, epoll.ThreadName, epoll.Call, epoll.EpollFd!.Value));
        Assert.Equal((101L, 50L, 50L, 25L, 1L, 1L), (epoll.Calls, epoll.WithEvents, epoll.ZeroTimeout, epoll.TimedOut, epoll.Errors, epoll.Interrupted));
        Assert.Equal(new[] { (2L, 3L, 49L), (1024L, 2047L, 51L) }, epoll.BlockedMicroseconds.Buckets.Select(b => (b.Min, b.Max, b.Count)));
        Assert.Equal(100, epoll.EventsPerWakeup.Total);
        Assert.Null(epoll.Finding); // half the waits poll: not a spinning loop
        Assert.Equal(("poll", (int?)null, 4L, 4L), (rows[1].Call, rows[1].EpollFd, rows[1].Calls, rows[1].ZeroTimeout));
    }

    [Theory]
    [InlineData(1000, 1000, 5.0, true)]
    [InlineData(1000, 899, 5.0, false)]
    [InlineData(400, 400, 5.0, false)]
    public void NamesBusyPollingWhenNearlyEveryWaitIsAPollHundredsASecond(long calls, long zero, double seconds, bool busy)
        => Assert.Equal(busy, WaitStatisticsProgram.BusyPolling(calls, zero, seconds) is not null);
}
