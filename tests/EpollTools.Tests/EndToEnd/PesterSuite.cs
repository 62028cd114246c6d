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
        Directory.GetFiles(RepoPaths.TestsFolder, "*.Tests.ps1").OrderBy(f => f, StringComparer.Ordinal).Select(PesterFile.Discover).ToList());

    public static IEnumerable<object[]> Runnable()
    {
        foreach (var file in Files.Value)
        {
            yield return new object[] { file.FileCaseName };
            foreach (var test in file.Tests.Where(t => !t.Skip))
            {
                yield return new object[] { test.DisplayName };
            }
        }
    }

    public static IEnumerable<object[]> Skipped() =>
        Files.Value.SelectMany(f => f.Tests.Where(t => t.Skip)).Select(t => new object[] { t.DisplayName });

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
    [Theory]
    [MemberData(nameof(Runnable))]
    [MemberData(nameof(SkippedInFile), Skip = "Skipped by -Skip in the .Tests.ps1 file")]
    public void Run(string test) => PesterSuite.Run(test);

    public static IEnumerable<object[]> Runnable() => PesterSuite.Runnable();

    public static IEnumerable<object[]> SkippedInFile() => PesterSuite.Skipped();
}
