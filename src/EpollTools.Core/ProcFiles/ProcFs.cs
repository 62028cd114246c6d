using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using EpollTools.Core.Native;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// Reads /proc and makes the few system calls that go with it (statx, kcmp). Every method copes with processes
/// and fds that vanish while they are read: a vanished fd reads as null, a vanished process throws
/// <see cref="ProcessGoneException"/>.
/// </summary>
public static class ProcFs
{
    public const string Root = "/proc";

    /// <summary>The pids of all processes now (thread-group leaders), ascending.</summary>
    public static List<int> ListPids()
    {
        var pids = new List<int>();
        try
        {
            foreach (var entry in Directory.EnumerateDirectories(Root))
            {
                if (int.TryParse(Path.GetFileName(entry.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    pids.Add(pid);
                }
            }
        }
        catch (IOException e) when (ProcFileReader.IsOutOfFds(e))
        {
            throw ProcFileReader.OutOfFds(e, Root);
        }

        pids.Sort();
        return pids;
    }

    /// <summary>Whether the process still exists (a zombie counts: its /proc directory is there until it is reaped).</summary>
    public static bool ProcessExists(int pid) => Directory.Exists($"{Root}/{pid}/fd");

    /// <summary>A small file of /proc/&lt;pid&gt; ("stat", "status"); null if the process is gone or it cannot be read.</summary>
    public static string? ReadProcessFile(int pid, string name) => ProcFileReader.ReadTextOrNull($"{Root}/{pid}/{name}");

    /// <summary>The process name (comm, up to 15 characters); null if the process is gone.</summary>
    public static string? ReadComm(int pid) => ProcFileReader.ReadTextOrNull($"{Root}/{pid}/comm")?.TrimEnd('\n');















    /// <summary>The network namespace of a process, as "net:[4026531840]"; null if unreadable.</summary>
    public static string? ReadNetNamespace(int pid) => ProcFileReader.ReadLink($"{Root}/{pid}/ns/net");

    /// <summary>
    /// A file of /proc/&lt;pid&gt;/net (as that process's network namespace shows it) given to <paramref name="line"/>
    /// a line at a time as it is read (a busy host's tables run to 100,000 lines); false if it cannot be read.
    /// </summary>
    public static bool ReadNetTable(int pid, string name, LineHandler line)
    {
        string path = $"{Root}/{pid}/net/{name}";
        try
        {
            ProcFileReader.ReadLines(path, line);
            return true;
        }
        catch (IOException e) when (ProcFileReader.IsOutOfFds(e))
        {
            throw ProcFileReader.OutOfFds(e, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }



















}
