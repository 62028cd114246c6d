using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using EpollTools.Core.Proc;
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
            string exe = Path.Combine(dir, "epoll-fixture");
            using (var gcc = Process.Start("gcc", new[] { "-O2", "-o", exe, Path.Combine(RepoPaths.Root, "tests", "fixtures", "epoll-fixture.c") }))
            {
                gcc.WaitForExit();
                Assert.Equal(0, gcc.ExitCode);
            }

            var start = new ProcessStartInfo(exe, Path.Combine(dir, "s.sock")) { RedirectStandardInput = true, RedirectStandardOutput = true };
            using var fixture = Process.Start(start)!;
            using var output = fixture.StandardOutput;
            while (output.ReadLine() is string line && line != "ready")
            {
            }

            var messages = new List<string>();
            var scanner = new EpollInterestScanner(messages.Add);
            var found = scanner.FindInstances(fixture.Id);
            Assert.NotEmpty(found);

            fixture.Kill();
            fixture.WaitForExit();

            Assert.Empty(EpollInterestScanner.GroupSharedInstances(found).SelectMany(instance => scanner.Expand(instance)));
            Assert.Contains(messages, m => m.Contains($"Process {fixture.Id} exited"));
            Assert.Throws<ProcessGoneException>(() => scanner.FindInstances(fixture.Id));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
