using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace EpollTools.Tests.EndToEnd;

/// <summary>Paths of the repository, found from the test assembly's folder.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string ModuleManifest => Path.Combine(Root, "EpollTools.psd1");

    public static string TestsFolder => Path.Combine(Root, "tests");

    public static string PesterLite => Path.Combine(AppContext.BaseDirectory, "PesterLite", "PesterLite.psm1");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EpollTools.psd1")) && Directory.Exists(Path.Combine(dir.FullName, "tests")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with EpollTools.psd1) was not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Runspaces of the real engine with the built module imported, always from module/bin.</summary>
internal static class Engine
{
    public static Runspace OpenRunspace()
    {
        var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        runspace.SessionStateProxy.Path.SetLocation(RepoPaths.Root);
        Invoke(runspace, ps => ps.AddCommand("Import-Module").AddParameter("Name", RepoPaths.ModuleManifest).AddParameter("ErrorAction", "Stop"));
        return runspace;
    }

    /// <summary>Runs one pipeline; any error record makes it throw, with every message.</summary>
    public static System.Collections.ObjectModel.Collection<PSObject> Invoke(Runspace runspace, Action<PowerShell> build)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        build(ps);
        var output = ps.Invoke();
        if (ps.Streams.Error.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, ps.Streams.Error.Select(e =>
                $"{e.FullyQualifiedErrorId}: {e} {e.InvocationInfo?.PositionMessage}")));
        }

        return output;
    }

    /// <summary>
    /// How many of <paramref name="fds"/> are of the kinds the module opens (epoll, eventfd, timerfd, pipes, sockets).
    /// The runtime also opens .dll files as it loads assemblies during a run; those are not the module's.
    /// </summary>
    public static int CountModuleKinds(System.Collections.Generic.Dictionary<int, string> fds) =>
        fds.Values.Count(t => t.StartsWith("anon_inode:", StringComparison.Ordinal) || t.StartsWith("pipe:", StringComparison.Ordinal) || t.StartsWith("socket:", StringComparison.Ordinal));

    /// <summary>The fds this process has open now, with what each refers to.</summary>
    public static System.Collections.Generic.Dictionary<int, string> OpenFds()
    {
        var fds = new System.Collections.Generic.Dictionary<int, string>();
        foreach (var entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                fds[int.Parse(System.IO.Path.GetFileName(entry))] = new FileInfo(entry).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                // Closed between listing and reading: not open any more.
            }
        }

        return fds;
    }
}
