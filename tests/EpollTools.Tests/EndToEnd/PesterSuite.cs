using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Sdk;

namespace EpollTools.Tests.EndToEnd;

/// <summary>The end-to-end suite: tests/*.Tests.ps1, one xunit case per It, run in the real PowerShell engine.</summary>
internal static class PesterSuite
{
    private static readonly Lazy<IReadOnlyList<PesterFile>> Files = new(() =>
    {
        WarmUpRuntime();
        return Directory.GetFiles(RepoPaths.TestsFolder, "*.Tests.ps1").OrderBy(f => f, StringComparer.Ordinal).Select(PesterFile.Discover).ToList();
    });

    /// <summary>
    /// The runtime opens some fds once per process, the first time a feature is used: the pipe that reaps child
    /// processes, and the socket engine's epoll instance and its wake-up pipe. Open them before any file's fds are
    /// counted, so that the first test to start a process or use a socket is not blamed for them.
    /// </summary>
    private static void WarmUpRuntime()
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/true") { RedirectStandardInput = true, RedirectStandardOutput = true };
        using (var child = System.Diagnostics.Process.Start(start)!)
        {
            child.WaitForExit();
        }

        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var client = new System.Net.Sockets.TcpClient();
        var accept = listener.AcceptTcpClientAsync();
        client.ConnectAsync(System.Net.IPAddress.Loopback, ((System.Net.IPEndPoint)listener.LocalEndpoint).Port).GetAwaiter().GetResult();
        using var accepted = accept.GetAwaiter().GetResult();
        listener.Stop();
    }

    /// <summary>Every case: each file's setup/teardown check, then its tests; skipped ones with the reason.</summary>
    public static IEnumerable<(string Name, string? SkipReason)> Cases()
    {
        foreach (var file in Files.Value)
        {
            yield return (file.FileCaseName, null);
            foreach (var test in file.Tests)
            {
                yield return (test.DisplayName, test.Skip ? "Skipped by -Skip in the .Tests.ps1 file" : null);
            }
        }
    }

    public static void Run(string caseName)
    {
        foreach (var file in Files.Value)
        {
            if (caseName == file.FileCaseName)
            {
                var failures = file.FileFailures();
                if (failures.Count > 0)
                {
                    throw new PesterFailure(string.Join(Environment.NewLine, failures), file.Path);
                }

                return;
            }

            var test = file.Tests.FirstOrDefault(t => t.DisplayName == caseName);
            if (test is null)
            {
                continue;
            }

            var outcome = file.OutcomeOf(test.Id);
            if (outcome.Result != "Passed")
            {
                throw new PesterFailure($"{outcome.Result}: {outcome.Message}", outcome.Location ?? file.Path);
            }

            return;
        }

        throw new XunitException($"No test named '{caseName}' was discovered.");
    }
}

/// <summary>A failed It: the Should message, with the .Tests.ps1 file and line as its stack.</summary>
public sealed class PesterFailure : XunitException
{
    private readonly string _location;

    public PesterFailure(string message, string location)
        : base(message) => _location = location;

    public override string StackTrace => "   at " + _location;
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    // Alone, so that fd counts of /proc/self/fd are not disturbed by tests running beside them.
    public const string Name = "End-to-end";
}

[Collection(EndToEndCollection.Name)]
public sealed class PesterTests
{
#pragma warning disable xUnit1001 // The cases and their argument come from PesterTestCaseDiscoverer.
    [PesterTests]
    public void Run(string test) => PesterSuite.Run(test);
#pragma warning restore xUnit1001
}
