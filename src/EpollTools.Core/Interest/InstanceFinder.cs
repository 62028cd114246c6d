using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Interest;

/// <summary>
/// One process's epoll fd onto an instance: a holder of the instance. Its fdinfo is read when the instance is read,
/// not kept from the search: on a busy host that would be every registration of every process at once.
/// <paramref name="Identity"/>, where known, names the process that was found: a process that took its pid since is
/// not read in its place.
/// </summary>
public sealed record InstanceHolder(int Pid, string ProcessName, int Fd, ulong? Identity = null);

/// <summary>
/// Finds the epoll fds of processes by their links alone, and groups those that are one instance (shared after fork
/// or fd passing) with kcmp.
/// </summary>
public sealed class InstanceFinder
{
    private const string EventPollTarget = "anon_inode:[eventpoll]";

    private readonly FdTables _tables;

    /// <param name="tables">The fd tables of the request: a whole table listed to find epoll fds is kept for the rest of it.</param>
    public InstanceFinder(FdTables tables) => _tables = tables;

    /// <summary>
    /// The epoll fds of <paramref name="pid"/> (or just <paramref name="epollFd"/>), with the process name read on the
    /// way. Throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/> for the process as a whole.
    /// </summary>
    public List<InstanceHolder> Find(int pid, int? epollFd, out string processName)
    {
        // The name is read from the process the fds are read from (its pinned /proc directory), after them: by path
        // before, it could be another process's that had the pid, or this one's before it renamed itself.
        // One epoll fd asked for: look at it alone, rather than reading the link of every fd of the process. Else
        // the whole table, listed once for the request (the holder search and the pipe pass use it again).
        if (epollFd is int only)
        {
            using var directory = FdDirectory.Open(pid);
            bool isEpoll = directory.ReadLink(only) == EventPollTarget;
            string single = processName = directory.ReadComm() ?? throw new ProcessGoneException(pid);
            return isEpoll ? new List<InstanceHolder> { new(pid, single, only, directory.Identity) } : new List<InstanceHolder>();
        }

        var holders = new List<InstanceHolder>();
        var table = _tables.Get(pid);
        // A table listed earlier in this request may be of a process that has exited since.
        string name = processName = table.ProcessName is string listedName && ProcFs.ProcessExists(pid) ? listedName : throw new ProcessGoneException(pid);
        foreach (var entry in table.Entries)
        {
            if (entry.Kind == FdLinkKind.Other && entry.Link == EventPollTarget)
            {
                holders.Add(new InstanceHolder(pid, name, entry.Fd, table.Identity));
            }
        }

        return holders;
    }

    /// <summary>
    /// Groups epoll fds that are one instance, with kcmp(KCMP_FILE): sorted by the kernel's order of their files, the
    /// fds of one instance come together (O(n log n) calls, no fdinfo read). If kcmp fails for any pair (a process
    /// gone, no permission), each fd is compared with each group found so far, and a pair kcmp cannot tell stays
    /// apart. Groups keep the order of the holders; so do the fds within a group.
    /// </summary>
    public static List<List<InstanceHolder>> GroupSharedInstances(IReadOnlyList<InstanceHolder> holders)
    {
        var unique = holders.Distinct().ToList();
        var order = unique.Select((r, i) => (Holder: r, Index: i)).ToDictionary(x => x.Holder, x => x.Index);
        var groups = GroupByKernelOrder(unique) ?? GroupPairwise(unique);
        foreach (var group in groups)
        {
            group.Sort((a, b) => order[a].CompareTo(order[b]));
        }

        groups.Sort((a, b) => order[a[0]].CompareTo(order[b[0]]));
        return groups;
    }

    private static List<List<InstanceHolder>>? GroupByKernelOrder(IReadOnlyList<InstanceHolder> holders)
    {
        bool failed = false;
        int Compare(InstanceHolder a, InstanceHolder b)
        {
            int? order = ReferenceEquals(a, b) ? 0 : FileIdentity.CompareFiles(a.Pid, a.Fd, b.Pid, b.Fd);
            failed |= order is null;
            return order ?? 0;
        }

        var sorted = holders.ToList();
        try
        {
            sorted.Sort(Compare);
        }
        catch (InvalidOperationException)
        {
            // A comparison that failed midway can leave the sort inconsistent; the pairwise grouping takes over.
            return null;
        }

        var groups = new List<List<InstanceHolder>>();
        foreach (var holder in sorted)
        {
            if (groups.Count > 0 && Compare(groups[^1][0], holder) == 0)
            {
                groups[^1].Add(holder);
            }
            else
            {
                groups.Add(new List<InstanceHolder> { holder });
            }
        }

        return failed ? null : groups;
    }

    private static List<List<InstanceHolder>> GroupPairwise(IReadOnlyList<InstanceHolder> holders)
    {
        var groups = new List<List<InstanceHolder>>();
        foreach (var holder in holders)
        {
            var group = groups.FirstOrDefault(g => FileIdentity.SameFile(g[0].Pid, g[0].Fd, holder.Pid, holder.Fd) == true);
            if (group is null)
            {
                groups.Add(new List<InstanceHolder> { holder });
            }
            else
            {
                group.Add(holder);
            }
        }

        return groups;
    }
}
