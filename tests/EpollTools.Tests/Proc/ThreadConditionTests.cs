using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.Waits;
using Xunit;
using static EpollTools.Tests.Proc.FdInfoParserTests;

namespace EpollTools.Tests.Proc;

/// <summary>
/// How a thread's state is judged, from stat and status text captured on this kernel: a sleep(1) process stopped
/// with SIGSTOP (task-stat-stopped.txt) and held by gdb (task-stat-traced.txt, task-status-traced.txt).
/// </summary>
public sealed class ThreadConditionTests
{
    [Fact]
    public void ReadsTheStateFlagsAndStartTimeOfAStatLine()
    {
        string stopped = Sample("task-stat-stopped.txt");
        Assert.Equal('T', TaskParser.ParseStatState(stopped));
        Assert.Equal(4194304u, TaskParser.ParseStatFlags(stopped)); // PF_RANDOMIZE: not exiting
        Assert.Equal(74578UL, TaskParser.ParseStatStartTime(stopped));
        Assert.Equal(0, TaskParser.ParseStatProcessor(stopped)); // field 39: the CPU it last ran on
        Assert.Equal('t', TaskParser.ParseStatState(Sample("task-stat-traced.txt")));
    }

    [Fact]
    public void FindsTheFieldsAfterANameWithSpacesAndParentheses()
    {
        const string line = "42 (a) b) c) S 1 42 42 0 -1 4194308 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0";
        Assert.Equal('S', TaskParser.ParseStatState(line));
        Assert.Equal(4194308u, TaskParser.ParseStatFlags(line));
        Assert.Equal(777UL, TaskParser.ParseStatStartTime(line));
        Assert.Null(TaskParser.ParseStatProcessor(line)); // the line ends before field 39
    }

    [Fact]
    public void ReadsTheTracerFromStatus()
    {
        Assert.Equal(7062, TaskParser.ParseTracerPid(Sample("task-status-traced.txt")));
        Assert.Equal(0, TaskParser.ParseTracerPid("Name:\tsleep\nTracerPid:\t0\n"));
        Assert.Null(TaskParser.ParseTracerPid("Name:\tsleep\n"));
        Assert.Null(TaskParser.ParseTracerPid("TracerPid:\tx\n"));
    }

    [Theory]
    [InlineData('S', 0u, false, ThreadHold.None)]
    [InlineData('R', 0u, false, ThreadHold.None)]
    [InlineData('T', 0u, false, ThreadHold.Stopped)]
    [InlineData('t', 0u, false, ThreadHold.Traced)]
    [InlineData('D', 0u, false, ThreadHold.UninterruptibleSleep)]
    [InlineData('D', 0u, true, ThreadHold.Frozen)]
    [InlineData('S', 0u, true, ThreadHold.Frozen)]
    [InlineData('Z', 0u, false, ThreadHold.Exiting)]
    [InlineData('X', 0u, false, ThreadHold.Exiting)]
    [InlineData('S', TaskFlags.PF_EXITING, false, ThreadHold.Exiting)]
    [InlineData('T', TaskFlags.PF_EXITING, false, ThreadHold.Exiting)]
    public void JudgesWhatHoldsAThread(char state, uint flags, bool frozen, ThreadHold expected)
        => Assert.Equal(expected, ThreadCondition.Judge(state, flags, frozen));

    [Theory]
    [InlineData('D', "ep_poll", true)]
    [InlineData('S', "do_freezer_trap", true)]
    [InlineData('S', "do_epoll_wait", false)]
    [InlineData('T', "do_signal_stop", false)]
    public void AsksTheFreezerOnlyWhereTheStateAllowsIt(char state, string waitChannel, bool expected)
        => Assert.Equal(expected, ThreadCondition.MayBeFrozen(state, waitChannel));

    [Fact]
    public void NamesTheHoldAndExplainsWhatEndsIt()
    {
        var traced = new ThreadCondition('t', ThreadHold.Traced, "ptrace_stop", 4148, "gdb", null);
        var diagnosis = traced.Diagnose("Thread 12 (loop)", "epoll_pwait")!;
        Assert.Equal(DiagnosisKind.HeldByTracer, diagnosis.Kind);
        Assert.Equal("held by gdb (4148)", diagnosis.Summary);
        Assert.Contains("detaches", diagnosis.Explanation);
        Assert.Equal("IN ready; held by gdb (4148)", traced.DiagnoseReady(12, 4, "IN")!.Summary);
        Assert.Null(ThreadCondition.Unknown.Diagnose("Thread 12", "poll"));
        Assert.True(ThreadCondition.Unknown.CanBeWoken);
    }

    [Fact]
    public void ReadsBothCgroupVersionsLines()
    {
        var lines = CgroupFreezer.ParseCgroupFile("6:freezer:/paused\n4:memory:/a:b\n0::/system.slice/x.service\n");
        Assert.Equal(new[] { ("6:freezer", "/paused"), ("4:memory", "/a:b"), ("0", "/system.slice/x.service") }, lines);
    }
}
