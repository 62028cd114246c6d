using System;
using System.Linq;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.Tracing;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>Trace-EpollInterest's diff and -Target's parser, as pure functions: fdinfo captured from this kernel, and text.</summary>
public sealed class TraceAndTargetTests
{
    private static EpollTargetLine[] Lines(string sample) => FdInfoParser.Parse(FdInfoParserTests.Sample(sample)).EpollTargets.ToArray();

    [Fact]
    public void TheSameListReadTwiceHasNoChange()
    {
        Assert.Empty(InterestDiff.Compare(Lines("fdinfo-eventpoll.txt"), Lines("fdinfo-eventpoll.txt")));
    }

    [Fact]
    public void ALineMissingIsRemovedAndANewOneAdded()
    {
        var all = Lines("fdinfo-eventpoll.txt");
        var fewer = all.Where(l => l.Tfd != 5).ToArray();
        var removed = Assert.Single(InterestDiff.Compare(all, fewer));
        Assert.Equal(InterestChangeKind.Removed, removed.Kind);
        Assert.Equal(5, removed.Before!.Tfd);

        var added = Assert.Single(InterestDiff.Compare(fewer, all));
        Assert.Equal(InterestChangeKind.Added, added.Kind);
        Assert.Equal(0xfeedfacecafebeefUL, added.After!.Data);
    }

    [Fact]
    public void RegistrationsWithTheSameNumberOnTheSharedInodeArePairedInKernelOrder()
    {
        // The sample has two registrations numbered 16 (a closed dup and its reuse), both on the anonymous inode.
        var all = Lines("fdinfo-eventpoll.txt");
        Assert.Equal(2, all.Count(l => l.Tfd == 16));
        var changed = all.Select(l => l.Tfd == 16 && l.Offset == 1 ? l with { Data = 0x99 } : l).ToArray();
        var modified = Assert.Single(InterestDiff.Compare(all, changed));
        Assert.Equal(InterestChangeKind.Modified, modified.Kind);
        Assert.Equal(1, modified.After!.Offset);
    }

    [Theory]
    [InlineData(EpollEvents.In | EpollEvents.OneShot | EpollEvents.Err | EpollEvents.Hup, EpollEvents.OneShot, InterestChangeKind.Disarmed)]
    [InlineData(EpollEvents.OneShot, EpollEvents.In | EpollEvents.OneShot | EpollEvents.Err | EpollEvents.Hup, InterestChangeKind.Rearmed)]
    [InlineData(EpollEvents.In | EpollEvents.Err | EpollEvents.Hup, EpollEvents.In | EpollEvents.Out | EpollEvents.Err | EpollEvents.Hup, InterestChangeKind.Modified)]
    [InlineData(EpollEvents.In | EpollEvents.OneShot, EpollEvents.Out | EpollEvents.OneShot, InterestChangeKind.Modified)]
    [InlineData(EpollEvents.In | EpollEvents.ET, EpollEvents.ET, InterestChangeKind.Modified)]
    public void AOneShotThatFiredOrWasRearmedIsToldFromOtherChanges(EpollEvents before, EpollEvents after, InterestChangeKind expected)
    {
        Assert.Equal(expected, InterestDiff.KindOfModification(before, after));
    }

    [Fact]
    public void ReadsTargetsAsOperatorsWriteThem()
    {
        Assert.Equal(new TargetSpec.ProcessFd(1234, 5), TargetSpec.Parse("1234:5"));
        Assert.Equal(new TargetSpec.ProcessFd(1234, 0), TargetSpec.Parse(" 1234:0 "));
        Assert.Equal(new TargetSpec.Inode(TargetKind.Socket, 98765), TargetSpec.Parse("socket:[98765]"));
        Assert.Equal(new TargetSpec.Inode(TargetKind.Pipe, 42), TargetSpec.Parse("pipe:[42]"));
        Assert.Equal(new TargetSpec.FilePath("/run/app.sock"), TargetSpec.Parse("/run/app.sock"));
        Assert.Equal("socket:[98765]", TargetSpec.Parse("socket:[98765]").ToString());
    }

    [Theory]
    [InlineData("8080")]
    [InlineData("1234:")]
    [InlineData("1:2:3")]
    [InlineData("zz:foo")]
    [InlineData("anon_inode:[eventfd]")]
    [InlineData("relative/path")]
    public void RefusesWhatNamesNoFileAndSaysWhichFormsThereAre(string text)
    {
        var error = Assert.Throws<FormatException>(() => TargetSpec.Parse(text));
        Assert.Contains("pid:fd", error.Message);
        Assert.Contains(text, error.Message);
    }

    [Theory]
    [InlineData("0:5", "pid:fd")]
    [InlineData("-1:3", "pid:fd")]
    [InlineData("1:-3", "pid:fd")]
    [InlineData("99999999999:1", "pid:fd")]
    [InlineData("4294967296:1", "pid:fd")]
    [InlineData("socket:[abc]", "socket:[inode]")]
    [InlineData("socket:[99999999999999999999999]", "socket:[inode]")]
    [InlineData("pipe:[]", "pipe:[inode]")]
    [InlineData("pipe:[0]", "pipe:[inode]")]
    public void RefusesAFormWithANumberOutOfRangeAsThatFormNeverAsAPath(string text, string form)
    {
        var error = Assert.Throws<MalformedTargetException>(() => TargetSpec.Parse(text));
        Assert.Contains($"'{text}' is not a {form}", error.Message);
    }
}
