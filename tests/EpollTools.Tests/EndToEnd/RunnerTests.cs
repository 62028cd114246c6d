using System.IO;
using System.Linq;
using Xunit;

namespace EpollTools.Tests.EndToEnd;

/// <summary>
/// The runner itself: the sample files under RunnerSamples state Pester 5's semantics, including tests that must
/// fail, so a runner that passed everything, or ran nothing, would be caught here.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class RunnerTests
{
    private static readonly string Samples = Path.Combine(RepoPaths.Root, "tests", "EpollTools.Tests", "RunnerSamples");

    [Fact]
    public void KeepsPester5ScopingDataSkipAndFailureSemantics()
    {
        using var file = PesterFile.Discover(Path.Combine(Samples, "Semantics.Sample.ps1"));
        string Result(string name) => file.OutcomeOf(file.Tests.Single(t => t.DisplayName.EndsWith(name)).Id).Result;

        Assert.Equal("Passed", Result("Scoping > sees the file and block BeforeAll and its BeforeEach"));
        Assert.Equal("Passed", Result("Scoping > does not see what the previous test set"));
        Assert.Equal("Passed", Result("Scoping > does not see Describe-body variables at run time"));
        Assert.Equal("Passed", Result("Scoping > ran BeforeEach and AfterEach around each test"));
        Assert.Equal("Passed", Result("Data > expands alpha from -ForEach"));
        Assert.Equal("Passed", Result("Data > expands beta from -ForEach"));
        Assert.Equal("Passed", Result("Data > keeps BeforeDiscovery values for -Skip and names: from BeforeDiscovery"));
        Assert.True(file.Tests.Single(t => t.DisplayName.EndsWith("Data > is skipped")).Skip);
        Assert.Equal("Skipped", Result("Data > is skipped"));
        Assert.Equal("Failed", Result("Failures > fails on a Should"));
        Assert.Equal("Failed", Result("Failures > fails on a thrown exception"));
        Assert.Equal("Passed", Result("Failures > still runs after the break"));
        Assert.Equal("Failed", Result("A failing BeforeAll > is reported failed"));
        Assert.Equal("Passed", Result("After a failing BeforeAll > its AfterAll still ran"));
        Assert.Equal("Passed", Result("A failing AfterAll > passes itself"));
        Assert.Contains(file.FileFailures(), f => f.Contains("teardown failed"));
    }

    [Fact]
    public void ReportsTheFileAndLineOfAFailingShould()
    {
        using var file = PesterFile.Discover(Path.Combine(Samples, "Semantics.Sample.ps1"));
        var outcome = file.OutcomeOf(file.Tests.Single(t => t.DisplayName.EndsWith("fails on a Should")).Id);
        Assert.Contains("Expected 2, but got 1.", outcome.Message);
        Assert.Matches(@"Semantics\.Sample\.ps1:\d+$", outcome.Location);
    }

    [Fact]
    public void EveryShouldOperatorPassesAndFailsWhereItMust()
    {
        using var file = PesterFile.Discover(Path.Combine(Samples, "Should.Sample.ps1"));
        Assert.Equal(28, file.Tests.Count);
        foreach (var test in file.Tests)
        {
            string expected = test.DisplayName.Contains("> passes:") ? "Passed" : "Failed";
            var outcome = file.OutcomeOf(test.Id);
            Assert.True(expected == outcome.Result, $"{test.DisplayName}: expected {expected}, got {outcome.Result}: {outcome.Message}");
        }
    }

    [Fact]
    public void ReportsAFileThatLeaksAnFd()
    {
        string path = Path.Combine(Path.GetTempPath(), $"Leak-{System.Guid.NewGuid():N}.Tests.ps1");
        File.WriteAllText(path, "Describe 'leak' { It 'opens an eventfd and keeps it' { $global:kept = New-EventFd } }");
        try
        {
            using var file = PesterFile.Discover(path);
            Assert.Equal("Passed", file.OutcomeOf(file.Tests.Single().Id).Result);
            Assert.Contains(file.FileFailures(), f => f.Contains("leaked fds") && f.Contains("anon_inode:[eventfd]"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
