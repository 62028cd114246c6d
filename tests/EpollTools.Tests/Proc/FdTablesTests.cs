using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>
/// What a large scan is built on, against this process's real fds: fd tables kept compact (sockets and pipes by
/// inode, a pipe's end from its link), listed on several cores, and an epoll fdinfo parsed as it is read.
/// </summary>
public sealed class FdTablesTests
{
    [Fact]
    public void AnEntryKeepsSocketsAndPipesByInodeAndGivesTheLinkBack()
    {
        var socket = FdEntry.Of(3, "socket:[4242]", () => throw new InvalidOperationException("a socket's access is not read"))!.Value;
        Assert.Equal((FdLinkKind.Socket, 4242UL, "socket:[4242]"), (socket.Kind, socket.Inode, socket.Link));

        var pipe = FdEntry.Of(4, "pipe:[77]", () => FdAccess.Write)!.Value;
        Assert.Equal((FdLinkKind.Pipe, 77UL, FdAccess.Write, "pipe:[77]"), (pipe.Kind, pipe.Inode, pipe.Access, pipe.Link));

        foreach (string other in new[] { "/dev/null", "anon_inode:[eventpoll]", "socket:[12x]", "pipe:[]", "net:[4026531840]" })
        {
            var entry = FdEntry.Of(5, other, () => FdAccess.Read)!.Value;
            Assert.Equal((FdLinkKind.Other, 0UL, other), (entry.Kind, entry.Inode, entry.Link));
        }

        // A pipe whose end cannot be read was closed after its readlink: no entry.
        Assert.Null(FdEntry.Of(6, "pipe:[78]", () => null));
    }

    [Fact]
    public void ATableHasEveryOpenFdWithItsLinkAndEachPipeEnd()
    {
        using var pipe = Pipe.Create();
        using var efd = EventFd.Create();
        var table = FdTable.List(Environment.ProcessId);
        var listed = FdFiles.List(Environment.ProcessId).Select(f => f.Fd).ToHashSet();

        Assert.True(table.Entries.Length > 0);
        // Fds come and go in this process (the runtime's own), so only ours are checked exactly.
        Assert.True(table.TryFind(pipe.ReadEnd.Fd, out var readEnd));
        Assert.True(table.TryFind(pipe.WriteEnd.Fd, out var writeEnd));
        Assert.Equal(FdLinkKind.Pipe, readEnd.Kind);
        Assert.Equal(FdAccess.Read, readEnd.Access);
        Assert.Equal(FdAccess.Write, writeEnd.Access);
        Assert.Equal(readEnd.Inode, writeEnd.Inode);
        Assert.Equal(FdFiles.ReadLink(Environment.ProcessId, pipe.ReadEnd.Fd), table.Link(pipe.ReadEnd.Fd));
        Assert.Equal("anon_inode:[eventfd]", table.Link(efd.Fd));
        Assert.Contains(efd.Fd, listed);

        var numbers = new List<int>();
        foreach (var entry in table.Entries)
        {
            numbers.Add(entry.Fd);
        }

        Assert.Equal(numbers.Order(), numbers);
        Assert.False(table.TryFind(-1, out _));
        Assert.Null(table.Link(int.MaxValue));
    }

    [Fact]
    public void AnFdDirectoryReadsLinksAndModesAndAnswersNullOnceItsProcessIsGone()
    {
        using (var pipe = Pipe.Create())
        using (var own = FdDirectory.Open(Environment.ProcessId))
        {
            Assert.Equal(FdFiles.ReadLink(Environment.ProcessId, pipe.ReadEnd.Fd), own.ReadLink(pipe.ReadEnd.Fd));
            Assert.Equal(FdAccess.Read, FdEntry.AccessOf(own.LinkStatus(pipe.ReadEnd.Fd)!.Value.Mode));
            Assert.Equal(FdAccess.Write, FdEntry.AccessOf(own.LinkStatus(pipe.WriteEnd.Fd)!.Value.Mode));
            Assert.Null(own.ReadLink(int.MaxValue));
            Assert.Null(own.LinkStatus(int.MaxValue));

            using var efd = EventFd.Create(initialValue: 5);
            Assert.Equal(FdFiles.ReadInfo(Environment.ProcessId, efd.Fd), own.ReadFdInfo(efd.Fd));
            Assert.Contains("eventfd-count:", own.ReadFdInfo(efd.Fd));
            Assert.Null(own.ReadFdInfo(int.MaxValue));
        }

        using var children = new Children(1);
        int pid = children.Pids.Single();
        using var directory = FdDirectory.Open(pid);
        Assert.NotNull(directory.ReadLink(0));
        children.Dispose();
        Assert.Null(directory.ReadLink(0)); // the process is gone: nothing read, whatever now has its pid
        Assert.Null(directory.ReadFdInfo(0));
        Assert.Throws<ProcessGoneException>(() => FdDirectory.Open(pid));

        using var directories = new FdDirectories();
        Assert.Null(directories.ReadLink(pid, 0));
        Assert.Null(directories.Of(pid));
    }

    [Fact]
    public void LoadingInParallelListsWhatGetListsAndSkipsAProcessThatIsGone()
    {
        using var children = new Children(4);
        int gone = Children.ExitedPid();
        var tables = new FdTables();
        tables.Load(children.Pids.Append(gone));

        foreach (int pid in children.Pids)
        {
            var loaded = tables.Get(pid);
            var listed = FdTable.List(pid);
            Assert.Equal(Links(listed), Links(loaded));
        }

        Assert.Throws<ProcessGoneException>(() => tables.Get(gone));
    }

    [Fact]
    public void ATableListedBeforeAnInterestListWasReadIsListedAgainForIt()
    {
        // The scan reads an instance's fdinfo, then judges its lines against tables listed after that: an fd opened
        // and registered after an earlier listing must not look closed.
        var tables = new FdTables();
        var before = tables.Get(Environment.ProcessId);
        using var pipe = Pipe.Create();
        long readAt = System.Diagnostics.Stopwatch.GetTimestamp();

        string pipeLink = FdFiles.ReadLink(Environment.ProcessId, pipe.ReadEnd.Fd)!;
        Assert.Same(before, tables.Get(Environment.ProcessId));
        // (The number may have been another fd at the first listing, such as the directory it was listed through.)
        Assert.NotEqual(pipeLink, tables.Get(Environment.ProcessId).Link(pipe.ReadEnd.Fd));
        var fresh = tables.Get(Environment.ProcessId, readAt);
        Assert.NotSame(before, fresh);
        Assert.True(fresh.ListedAt >= readAt);
        Assert.Equal(pipeLink, tables.Get(Environment.ProcessId, readAt).Link(pipe.ReadEnd.Fd));
        Assert.Same(fresh, tables.Get(Environment.ProcessId)); // the fresh listing replaces the old one
    }

    [Fact]
    public void APipeNewerThanTheHostListingIsNotSaidToHaveNoWriters()
    {
        var resolver = new TargetResolver();
        int self = Environment.ProcessId;
        using var listed = Pipe.Create();
        string Describe(Pipe pipe) => resolver.Resolve(self, pipe.ReadEnd.Fd, FdFiles.ReadLink(self, pipe.ReadEnd.Fd)).Description;

        // The first pipe described lists the host: this one's writer is found.
        Assert.EndsWith($"read end; writers: {self} {ProcFs.ReadComm(self)} fd {listed.WriteEnd.Fd}", Describe(listed));

        using var newer = Pipe.Create();
        Assert.EndsWith("read end; writers: not known (opened after this call listed the host's fds)", Describe(newer));
    }

    [Fact]
    public void AnEpollFdinfoParsedAsItIsReadEqualsTheWholeText()
    {
        // Some 2,000 lines: more than the 64 KiB read buffer, so lines are split across reads.
        using var instance = EpollInstance.Create();
        var fds = Enumerable.Range(0, 2_000).Select(_ => EventFd.Create()).ToList();
        try
        {
            foreach (var fd in fds)
            {
                instance.Add(fd.Fd, EpollEvents.In | EpollEvents.ET, ulong.MaxValue - (ulong)fd.Fd);
            }

            string text = FdFiles.ReadInfo(Environment.ProcessId, instance.Fd)!;
            Assert.True(text.Length > 64 * 1024);
            var whole = FdInfoParser.Parse(text);
            var streamed = FdFiles.ParseInfo(Environment.ProcessId, instance.Fd)!;

            Assert.Empty(streamed.Errors);
            Assert.Equal(fds.Count, streamed.EpollTargets.Count);
            Assert.Equal(whole.EpollTargets, streamed.EpollTargets);
            Assert.Equal(whole.Ino, streamed.Ino);
            Assert.Equal(whole.Fields, streamed.Fields);
            Assert.Null(FdFiles.ParseInfo(Environment.ProcessId, int.MaxValue));
        }
        finally
        {
            fds.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void AnEpollLineReadAsSpansKeepsTheRulesOfTheOtherLines()
    {
        var info = FdInfoParser.Parse("tfd:        5 events:       19 data: 10 pos:0 ino:1c sdev:9 later:7\n" +
            "tfd: 6 events: 1 data: 2 data: 3\n" +
            "tfd: 7 events: 100000000 data: 1\n" +
            "tfd: 8 data: 1\n" +
            "tfd: 9 events: 1 data:\n" +
            "tfd: x events: 1 data: 1\n");
        Assert.Equal(new[] { 5, 6 }, info.EpollTargets.Select(t => t.Tfd));
        Assert.Equal(new EpollTargetLine(5, EpollEvents.In | EpollEvents.Err | EpollEvents.Hup, 0x10, 0, 0x1c, 9, 0), info.EpollTargets[0]);
        Assert.Equal(3UL, info.EpollTargets[1].Data); // a key given twice: the last value, as Pairs does
        Assert.Equal(new[] { 3, 4, 5, 6 }, info.Errors.Select(e => e.LineNumber));
        Assert.Contains("no 'events' field", info.Errors[1].Reason);
        Assert.Contains("has no value", info.Errors[2].Reason);
    }

    private static string[] Links(FdTable table)
    {
        var links = new List<string>();
        foreach (var entry in table.Entries)
        {
            links.Add($"{entry.Fd} {entry.Link} {entry.Access}");
        }

        return links.ToArray();
    }

    /// <summary>Sleeping children, each with a pipe of its own (sh opens it), ended on dispose.</summary>
    private sealed class Children : IDisposable
    {
        private readonly List<System.Diagnostics.Process> _processes = new();

        public Children(int count)
        {
            for (int i = 0; i < count; i++)
            {
                var start = new System.Diagnostics.ProcessStartInfo("sh", new[] { "-c", "exec 3<&0; exec sleep 30" }) { RedirectStandardInput = true };
                _processes.Add(System.Diagnostics.Process.Start(start)!);
            }
        }

        public IEnumerable<int> Pids => _processes.Select(p => p.Id);

        /// <summary>The pid of a child that has exited and been reaped: no such process now.</summary>
        public static int ExitedPid()
        {
            using var child = System.Diagnostics.Process.Start("true")!;
            child.WaitForExit();
            return child.Id;
        }

        public void Dispose()
        {
            foreach (var process in _processes)
            {
                process.Kill();
                process.WaitForExit();
                process.Dispose();
            }

            _processes.Clear();
        }
    }
}
