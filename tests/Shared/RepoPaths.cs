using System;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace EpollTools.Tests;

/// <summary>
/// The repository's root, found from the running assembly's folder, and its C programs built with gcc: shared by the
/// xunit tests and the benchmark (each project links this file).
/// </summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// Builds <paramref name="sources"/> (paths under the root) with gcc -O2 and <paramref name="flags"/> into
    /// <paramref name="output"/>; returns it, or throws with what gcc said.
    /// </summary>
    public static string BuildC(string output, string flags, params string[] sources)
    {
        var start = new ProcessStartInfo("gcc", $"-O2 {flags} -o {output} {string.Join(' ', sources.Select(s => Path.Combine(Root, s)))}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var gcc = Process.Start(start)!;
        string said = gcc.StandardError.ReadToEnd() + gcc.StandardOutput.ReadToEnd();
        gcc.WaitForExit();
        return gcc.ExitCode == 0 ? output : throw new InvalidOperationException($"gcc failed on {string.Join(", ", sources)}: {said}");
    }

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
