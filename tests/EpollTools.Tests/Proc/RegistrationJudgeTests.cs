using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>
/// The registration judge on a captured interest list (fdinfo-eventpoll.txt: the instance's own inode is 0x40e, shared
/// by its eventfd-like lines; sockets on sdev 9, a pipe on sdev f), with the kernel's answers given as captured values:
/// no /proc, no kcmp. Each test also checks which answers the judge asked for, since asking kcmp or statx where the
/// link already tells is the cost the judge exists to avoid.
/// </summary>
public sealed class RegistrationJudgeTests
{
    private const int Pid = 4242;
    private static readonly InstanceHolder Instance = new(Pid, "server", 4);

    private static readonly ParsedFdInfo Captured = FdInfoParser.Parse(FdInfoParserTests.Sample("fdinfo-eventpoll.txt"));

    private static EpollTargetLine Line(int tfd) => Captured.EpollTargets.First(l => l.Tfd == tfd);

    /// <summary>Captured kernel answers, with a record of every question asked.</summary>
    private sealed class Answers
    {
        public Dictionary<(int Pid, int Fd), FileStatus> Status { get; } = new();

        public Dictionary<(int Pid, int Fd), bool?> Kcmp { get; } = new();

        public List<string> Asked { get; } = new();

        public RegistrationFileAccess Access => new(
            (pid, fd) =>
            {
                Asked.Add($"statx {pid}:{fd}");
                return Status.TryGetValue((pid, fd), out var status) ? status : null;
            },
            (pid, fd, instance, line) =>
            {
                Assert.Same(Instance, instance);
                Asked.Add($"kcmp {pid}:{fd} tfd {line.Tfd}#{line.Offset}");
                return Kcmp.TryGetValue((pid, fd), out var answer) ? answer : null;
            });
    }

    [Fact]
    public void AClosedNumberIsStaleWithoutAskingTheKernel()
    {
        var answers = new Answers();
        var verdict = new RegistrationJudge(Instance, Captured, answers.Access).Judge(Pid, Line(7), link: null);

        Assert.Equal(RegistrationState.Stale, verdict.State);
        Assert.Equal("fd 7 is closed", verdict.Reason);
        Assert.Empty(answers.Asked);
    }

    [Fact]
    public void ASocketOrPipeIsJudgedByTheInodeItsLinkNames()
    {
        var answers = new Answers();
        var judge = new RegistrationJudge(Instance, Captured, answers.Access);

        // Line tfd 7 registered ino c91f = 51487; tfd 8 (a pipe) ino c920 = 51488.
        Assert.Equal(RegistrationState.Current, judge.Judge(Pid, Line(7), "socket:[51487]").State);
        Assert.Equal(RegistrationState.Current, judge.Judge(Pid, Line(8), "pipe:[51488]").State);
        var reused = judge.Judge(Pid, Line(7), "socket:[99]");
        Assert.Equal(RegistrationState.Stale, reused.State);
        Assert.Equal("fd 7 now refers to another file (socket:[99])", reused.Reason);
        Assert.Empty(answers.Asked);
    }

    [Theory]
    [InlineData(true, RegistrationState.Current)]
    [InlineData(false, RegistrationState.Stale)]
    [InlineData(null, RegistrationState.Unknown)]
    public void AFileOnTheSharedAnonymousInodeIsAskedOfKcmp(bool? kcmp, RegistrationState expected)
    {
        var answers = new Answers();
        answers.Kcmp[(Pid, 13)] = kcmp;
        var verdict = new RegistrationJudge(Instance, Captured, answers.Access).Judge(Pid, Line(13), "anon_inode:[eventfd]");

        Assert.Equal(expected, verdict.State);
        Assert.Equal(new[] { "kcmp 4242:13 tfd 13#0" }, answers.Asked);
        Assert.Equal(expected == RegistrationState.Stale ? "fd 13 now refers to another file (anon_inode:[eventfd])" : null, verdict.Reason);
    }

    [Fact]
    public void PastTheExactCheckLimitAnAnonymousInodeIsUnknownAndKcmpIsNotAsked()
    {
        var text = new StringBuilder("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n");
        for (int tfd = 3; tfd < 3 + RegistrationJudge.ExactCheckLimit + 1; tfd++)
        {
            text.Append($"tfd: {tfd,8} events:       19 data: {tfd,16:x}  pos:0 ino:40e sdev:10\n");
        }

        var large = FdInfoParser.Parse(text.ToString());
        var answers = new Answers();
        answers.Kcmp[(Pid, 3)] = true;
        var judge = new RegistrationJudge(Instance, large, answers.Access);

        Assert.False(judge.Exact);
        Assert.Equal(RegistrationState.Unknown, judge.Judge(Pid, large.EpollTargets[0], "anon_inode:[eventfd]").State);
        Assert.Empty(answers.Asked);
    }

    [Fact]
    public void AFileWithAPathIsJudgedByItsInodeAndDevice()
    {
        var answers = new Answers();
        var judge = new RegistrationJudge(Instance, Captured, answers.Access);

        // Line tfd 3: ino c91b = 51483 on sdev 9 (0:9).
        answers.Status[(Pid, 3)] = new FileStatus(0x81a4, 51483, 0, 9, 0, 0);
        Assert.Equal(RegistrationState.Current, judge.Judge(Pid, Line(3), "/var/log/app.log").State);
        answers.Status[(Pid, 3)] = new FileStatus(0x81a4, 51483, 8, 1, 0, 0); // the same inode number on another device
        Assert.Equal(RegistrationState.Stale, judge.Judge(Pid, Line(3), "/var/log/app.log").State);
        Assert.Equal(new[] { "statx 4242:3", "statx 4242:3" }, answers.Asked);

        // No statx answer (the file went): kcmp decides.
        answers.Status.Clear();
        answers.Kcmp[(Pid, 3)] = false;
        Assert.Equal(RegistrationState.Stale, judge.Judge(Pid, Line(3), "/var/log/app.log").State);
        Assert.Equal("kcmp 4242:3 tfd 3#0", answers.Asked[^1]);
    }

    [Fact]
    public void InASharedInstanceTheFirstHolderWhereTheLineIsCurrentWins()
    {
        var answers = new Answers();
        var judge = new RegistrationJudge(Instance, Captured, answers.Access);
        var first = judge.Judge(Pid, Line(7), null);
        var links = new Dictionary<(int, int), string>
        {
            [(5001, 7)] = "socket:[1]",     // another socket there: stale in that holder
            [(5003, 7)] = "socket:[51487]", // the registered one
        };

        string? LinkOf(int pid, int fd) => pid == 5002 ? throw new ProcessAccessDeniedException(pid) : links.GetValueOrDefault((pid, fd));

        var verdict = judge.JudgeInOtherHolders(Line(7), new[] { 5001, 5002, 5003 }, first, LinkOf);
        Assert.Equal(RegistrationState.Current, verdict.State);
        Assert.Equal(5003, verdict.Pid);

        // Nobody has it: the first holder's verdict stands.
        Assert.Equal(first, judge.JudgeInOtherHolders(Line(7), new[] { 5001, 5002 }, first, LinkOf));
    }

    [Fact]
    public void AStaleRegistrationsFileIsFoundUnderAnotherNumberOfTheSameInode()
    {
        var answers = new Answers();
        var judge = new RegistrationJudge(Instance, Captured, answers.Access);
        var table = new[]
        {
            FdEntry.Of(3, "anon_inode:[eventfd]", () => null)!.Value,
            FdEntry.Of(13, "anon_inode:[eventfd]", () => null)!.Value,
            FdEntry.Of(20, "/tmp/other", () => null)!.Value,
            FdEntry.Of(21, "anon_inode:[eventfd]", () => null)!.Value,
        };
        answers.Status[(Pid, 3)] = new FileStatus(0, 0x40e, 0, 16, 0, 0);
        answers.Status[(Pid, 13)] = new FileStatus(0, 0x40e, 0, 16, 0, 0);
        answers.Status[(Pid, 20)] = new FileStatus(0, 77, 8, 1, 0, 0); // another inode: never sent to kcmp
        answers.Status[(Pid, 21)] = new FileStatus(0, 0x40e, 0, 16, 0, 0);
        answers.Kcmp[(Pid, 21)] = true;
        answers.Kcmp[(Pid, 13)] = true;

        Assert.Equal(21, judge.FindHolder(Line(13), table));
        Assert.DoesNotContain("kcmp 4242:13 tfd 13#0", answers.Asked); // the registered number itself is not asked
        Assert.DoesNotContain("kcmp 4242:20 tfd 13#0", answers.Asked);
        Assert.Equal(13, judge.FindHolder(Line(13), table[..2], includingTfd: true));
        answers.Kcmp[(Pid, 21)] = false;
        Assert.Null(judge.FindHolder(Line(13), table));
    }

    [Fact]
    public void ACurrentAnonymousRegistrationIsStillItsFileOnlyIfTheLinkAndKcmpSaySoAgain()
    {
        var answers = new Answers();
        var judge = new RegistrationJudge(Instance, Captured, answers.Access);
        answers.Kcmp[(Pid, 13)] = true;
        var verdict = judge.Judge(Pid, Line(13), "anon_inode:[eventfd]");

        Assert.True(judge.StillTheRegisteredFile(verdict, Line(13), "anon_inode:[eventfd]"));
        Assert.False(judge.StillTheRegisteredFile(verdict, Line(13), "anon_inode:[timerfd]"));
        answers.Kcmp[(Pid, 13)] = false; // the same kind of file, another one
        Assert.False(judge.StillTheRegisteredFile(verdict, Line(13), "anon_inode:[eventfd]"));

        // A socket is judged by its inode: the link alone says it is still the file.
        var socket = judge.Judge(Pid, Line(7), "socket:[51487]");
        int asked = answers.Asked.Count;
        Assert.True(judge.StillTheRegisteredFile(socket, Line(7), "socket:[51487]"));
        Assert.Equal(asked, answers.Asked.Count);
    }

    [Fact]
    public void AnInstanceIsCountedAllStaleOnlyWhenEveryLineIs()
    {
        var answers = new Answers();
        var judge = new RegistrationJudge(Instance, Captured, answers.Access);
        var lines = Captured.EpollTargets.Where(l => l.Tfd is 7 or 8).ToList();

        Assert.Equal(2, judge.CountIfAllStale(lines, tfd => null));
        Assert.Equal(2, judge.CountIfAllStale(lines, tfd => "socket:[5]"));
        Assert.Null(judge.CountIfAllStale(lines, tfd => tfd == 8 ? "pipe:[51488]" : null));
        Assert.Null(judge.CountIfAllStale(Array.Empty<EpollTargetLine>(), tfd => null));
        Assert.Null(judge.CountIfAllStale(lines, tfd => throw new ProcessGoneException(Pid)));

        // One anonymous line kcmp cannot tell: not all stale.
        Assert.Null(judge.CountIfAllStale(new[] { Line(13) }, tfd => "anon_inode:[eventfd]"));
    }
}
