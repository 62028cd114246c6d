using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.ProcFiles;

/// <summary>The files of a process's threads (/proc/&lt;pid&gt;/task/&lt;tid&gt;): their list, each file, and the run stamp over them.</summary>
public static class TaskFiles
{
    /// <summary>The thread ids of a process (its /proc/&lt;pid&gt;/task), ascending.</summary>
    public static List<int> ListThreads(int pid)
    {
        string dir = $"{ProcFs.Root}/{pid}/task";
        var tids = new List<int>();
        try
        {
            foreach (var entry in Directory.EnumerateDirectories(dir))
            {
                if (int.TryParse(Path.GetFileName(entry.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                {
                    tids.Add(tid);
                }
            }
        }
        catch (Exception e) when (ProcessFileFailure.IsFileFailure(e))
        {
            // Gone while its task directory was listed, or never there.
            ProcessFileFailure.ThrowIfProcessUnreadable(pid, dir, e, processGoneThrows: true);
            throw;
        }

        tids.Sort();
        return tids;
    }

    /// <summary>A file of /proc/thread-self (the calling thread's own task directory); null if unreadable.</summary>
    public static string? ReadThreadSelf(string name) => ProcFileReader.ReadTextOrNull($"{ProcFs.Root}/thread-self/{name}");

    /// <summary>
    /// Every thread's schedstat (time on a CPU, time waiting for one, times put on one) of <paramref name="pids"/>, in
    /// one string: the same on two reads means no thread of them ran, started or ended in between, so nothing they
    /// hold (fd tables, interest lists) changed by their own doing. A thread on a CPU now (state R) may run on with
    /// its figures not yet updated (the kernel adds a running thread's time at the next tick): then, as for a process
    /// that cannot be read, null.
    /// </summary>
    public static string? ReadRunStamp(IEnumerable<int> pids)
    {
        var stamp = new StringBuilder();
        try
        {
            foreach (int pid in pids)
            {
                foreach (int tid in ListThreads(pid))
                {
                    if (Read(pid, tid, "stat") is not string stat || TaskParser.ParseStatState(stat) is 'R' or null)
                    {
                        return null;
                    }

                    stamp.Append(tid).Append(' ').Append(Read(pid, tid, "schedstat") ?? "gone").Append('\n');
                }
            }
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }

        return stamp.ToString();
    }

    /// <summary>
    /// A file of /proc/&lt;pid&gt;/task/&lt;tid&gt; ("syscall", "stat", "wchan", "comm", "sched"); null if the thread is gone.
    /// A file the caller may not read (syscall needs ptrace attach access) throws <see cref="ProcessAccessDeniedException"/>.
    /// </summary>
    public static string? Read(int pid, int tid, string name)
    {
        string path = $"{ProcFs.Root}/{pid}/task/{tid}/{name}";
        try
        {
            return ProcFileReader.ReadSmallFile(path);
        }
        catch (Exception e) when (ProcessFileFailure.IsFileFailure(e))
        {
            ProcessFileFailure.ThrowIfProcessUnreadable(pid, path, e, processGoneThrows: false);
            return null; // the thread (or the whole process) exited
        }
    }
}
