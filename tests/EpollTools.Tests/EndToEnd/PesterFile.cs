using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace EpollTools.Tests.EndToEnd;

/// <summary>A test found by discovery in one .Tests.ps1 file.</summary>
internal sealed record DiscoveredTest(int Id, string DisplayName, bool Skip);

/// <summary>The outcome of one test, as the runner recorded it.</summary>
internal sealed record TestOutcome(string Result, string? Message, string? Location);

/// <summary>
/// One .Tests.ps1 file in its own runspace: discovered when the suite is enumerated, run once when its first
/// test case executes; each It's outcome is then looked up by id.
/// </summary>
internal sealed class PesterFile : IDisposable
{
    private const string ScopeHelper =
        "Set-PLScopeHelper -ScriptBlock { param($__plAction, $__plArgument) & $__plAction $__plArgument $ExecutionContext.SessionState }";

    private readonly object _gate = new();
    private Runspace? _runspace;
    private Dictionary<int, TestOutcome>? _outcomes;
    private readonly List<string> _fileFailures = new();
    private System.Collections.Generic.Dictionary<int, string> _fdsBefore = new();

    private PesterFile(string path)
    {
        Path = path;
        Name = System.IO.Path.GetFileName(path);
    }

    public string Path { get; }

    public string Name { get; }

    public IReadOnlyList<DiscoveredTest> Tests { get; private set; } = Array.Empty<DiscoveredTest>();

    /// <summary>The name of the case that reports discovery, BeforeAll/AfterAll and fd-leak failures of the file.</summary>
    public string FileCaseName => $"{Name} > (discovery, setup, teardown, fds)";

    public static PesterFile Discover(string path)
    {
        var file = new PesterFile(path);
        file.RunDiscovery();
        return file;
    }

    public TestOutcome OutcomeOf(int id)
    {
        EnsureRun();
        return _outcomes!.TryGetValue(id, out var outcome) ? outcome : new TestOutcome("Failed", "The runner recorded no result for this test.", null);
    }

    public IReadOnlyList<string> FileFailures()
    {
        EnsureRun();
        return _fileFailures;
    }

    public void Dispose() => _runspace?.Dispose();

    private void RunDiscovery()
    {
        try
        {
            _runspace = Engine.OpenRunspace();
            Engine.Invoke(_runspace, ps => ps.AddCommand("Import-Module").AddParameter("Name", RepoPaths.PesterLite).AddParameter("ErrorAction", "Stop"));
            Engine.Invoke(_runspace, ps => ps.AddCommand("Reset-PLState").AddParameter("Path", Path));
            // Discovery runs the file in a child scope, so that what its top level and Describe bodies set is gone at run time.
            Engine.Invoke(_runspace, ps => ps.AddScript("& { . '" + Path.Replace("'", "''") + "' }"));
            var rows = Engine.Invoke(_runspace, ps => ps.AddCommand("Get-PLTests"));
            var names = new HashSet<string>();
            Tests = rows.Select(row =>
            {
                string name = $"{Name} > {string.Join(" > ", (string[])row.Properties["Path"].Value)}";
                int id = (int)row.Properties["Id"].Value;
                if (!names.Add(name))
                {
                    name = $"{name} #{id}";
                    names.Add(name);
                }

                return new DiscoveredTest(id, name, (bool)row.Properties["Skip"].Value);
            }).ToList();
        }
        catch (Exception e)
        {
            _fileFailures.Add($"Discovery of {Path} failed: {Unwrap(e)}");
            _outcomes = new Dictionary<int, TestOutcome>();
        }
    }

    private void EnsureRun()
    {
        lock (_gate)
        {
            if (_outcomes is not null)
            {
                return;
            }

            _outcomes = new Dictionary<int, TestOutcome>();
            try
            {
                // Measured here, not at discovery: every file is discovered before the first one runs.
                _fdsBefore = Engine.OpenFds();
                Engine.Invoke(_runspace!, ps => ps.AddScript(ScopeHelper));
                foreach (var failure in Engine.Invoke(_runspace!, ps => ps.AddCommand("Invoke-PLRun")))
                {
                    _fileFailures.Add(failure.ToString());
                }

                foreach (var row in Engine.Invoke(_runspace!, ps => ps.AddCommand("Get-PLResults")))
                {
                    _outcomes[(int)row.Properties["Id"].Value] = new TestOutcome(
                        (string)row.Properties["Result"].Value,
                        row.Properties["Message"].Value as string,
                        row.Properties["Location"].Value as string);
                }

                var fdsAfter = Engine.OpenFds();
                var leaked = fdsAfter.Where(fd => !_fdsBefore.TryGetValue(fd.Key, out var target) || target != fd.Value).ToList();
                if (Engine.CountModuleKinds(fdsAfter) > Engine.CountModuleKinds(_fdsBefore))
                {
                    _fileFailures.Add($"{Name} leaked fds: {Engine.CountModuleKinds(_fdsBefore)} pipes, sockets and anonymous inodes open before its tests, {Engine.CountModuleKinds(fdsAfter)} after; new: " +
                        string.Join(", ", leaked.Select(fd => $"{fd.Key} -> {fd.Value}")));
                }
            }
            catch (Exception e)
            {
                _fileFailures.Add($"Running {Path} failed: {Unwrap(e)}");
            }
        }
    }

    private static string Unwrap(Exception e) => e is RuntimeException runtime && runtime.ErrorRecord.InvocationInfo is { } info
        ? $"{e.Message} {info.PositionMessage}"
        : e.Message;
}
