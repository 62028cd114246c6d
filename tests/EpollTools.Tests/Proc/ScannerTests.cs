using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>The scanner against the fixture process, where timing matters: a process that exits between the two phases.</summary>
public sealed class ScannerTests
{
    [Fact]
    public void AProcessThatExitsMidScanIsSkippedWithAVerboseMessage()
    {
        string dir = Path.Combine(Path.GetTempPath(), "epolltools-scan-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string exe = RepoPaths.BuildC(Path.Combine(dir, "epoll-fixture"), string.Empty, Path.Combine("tests", "fixtures", "epoll-fixture.c"));

            var start = new ProcessStartInfo(exe, Path.Combine(dir, "s.sock")) { RedirectStandardInput = true, RedirectStandardOutput = true };
            using var fixture = Process.Start(start)!;
            using var output = fixture.StandardOutput;
            while (output.ReadLine() is string line && line != "ready")
            {
            }

            var messages = new List<string>();
            var reader = new InterestListReader(messages.Add);
            var finder = new InstanceFinder(reader.Tables);
            var found = finder.Find(fixture.Id, null, out _);
            Assert.NotEmpty(found);

            fixture.Kill();
            fixture.WaitForExit();

            Assert.Empty(InstanceFinder.GroupSharedInstances(found).SelectMany(instance => reader.Read(instance)));
            Assert.Contains(messages, m => m.Contains($"Process {fixture.Id} exited"));
            Assert.Throws<ProcessGoneException>(() => finder.Find(fixture.Id, null, out _));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AHolderThatIsGoneIsPassedOverWhileAnotherCanBeReadAndNoneLeftIsSaid()
    {
        using var instance = EpollTools.Core.EpollInstance.Create();
        using var efd = EpollTools.Core.EventFd.Create();
        instance.Add(efd.Fd, EpollTools.Core.EpollEvents.In, 9);
        int gone = ExitedPid();
        var messages = new List<string>();
        var reader = new InterestListReader(messages.Add);

        // The instance as a shared one would be grouped: its first holder exited since the epoll fds were found.
        var rows = reader.Read(new[] { new InstanceHolder(gone, "gone", instance.Fd), new InstanceHolder(Environment.ProcessId, "me", instance.Fd) }).ToList();
        var row = Assert.Single(rows);
        Assert.Equal(Environment.ProcessId, row.ProcessId);
        Assert.Equal(efd.Fd, row.TargetFd);
        Assert.Equal(RegistrationState.Current, row.State);

        // No holder left: nothing listed, and a verbose line says why.
        Assert.Empty(reader.Read(new[] { new InstanceHolder(gone, "gone", instance.Fd) }));
        Assert.Contains(messages, m => m.Contains($"Process {gone} exited", StringComparison.Ordinal));
    }

    private static int ExitedPid()
    {
        using var child = Process.Start("true")!;
        child.WaitForExit();
        return child.Id;
    }
}
