using System;
using System.IO;
using System.Linq;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// The kernel's tracepoints as tracefs lists them (or debugfs's copy of it): which exist, and which fields their
/// format files name, so that a program uses a field only where the kernel has it.
/// </summary>
public static class TracepointFormat
{
    private static readonly string[] EventDirectories = { "/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events" };

    public static bool Exists(string system, string name) => EventDirectories.Any(d => Directory.Exists(Path.Combine(d, system, name)));

    /// <summary>Whether the tracepoint's format names the field ("field:bool group_dead;"); false if it cannot be read.</summary>
    public static bool HasField(string system, string name, string field)
    {
        foreach (string directory in EventDirectories)
        {
            try
            {
                return File.ReadLines(Path.Combine(directory, system, name, "format"))
                    .Any(line => line.TrimStart().StartsWith("field:", StringComparison.Ordinal) && line.Contains($" {field};", StringComparison.Ordinal));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // not mounted there: the next place
            }
        }

        return false;
    }
}
