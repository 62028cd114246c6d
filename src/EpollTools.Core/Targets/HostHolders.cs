using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Kinds;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Targets;

/// <summary>
/// Who holds a pipe, a socket or an open file anywhere on the host. The kernel keeps no map from a file to the fds on
/// it, so every process's fd table is listed (once per request, shared with the rest of it, on every core) and
/// indexed as each question first needs it.
/// </summary>
public sealed class HostHolders
{
    private readonly FdTables _tables;
    private readonly Func<int, string> _nameOf;
    private PipeFd[]? _pipeEnds;
    private Dictionary<string, List<(int Pid, int Fd)>>? _pathHolders;
    private readonly HashSet<int> _denied = new();

    /// <summary>
    /// How many processes' fd tables this user could not read in the host passes so far: where it is not 0, "nobody
    /// holds the other end" cannot be said, only "no process this user can read does".
    /// </summary>
    public int UnreadableCount => _denied.Count;

    /// <summary>The processes this user could not read, as "1 (process_api)", the first three.</summary>
    public string UnreadableNames => string.Join(", ", _denied.Order().Take(3).Select(pid => $"{pid} ({_nameOf(pid)})")) + (_denied.Count > 3 ? ", ..." : string.Empty);

    /// <param name="tables">The request's fd tables.</param>
    /// <param name="nameOf">A process's name, read once per request.</param>
    public HostHolders(FdTables tables, Func<int, string> nameOf)
    {
        _tables = tables;
        _nameOf = nameOf;
    }

    /// <summary>An fd on an anonymous pipe, as the host pass found it (the index is sorted by inode).</summary>
    private readonly record struct PipeFd(ulong Inode, int Pid, int Fd, FdAccess Access) : IComparable<PipeFd>
    {
        public int CompareTo(PipeFd other) => (Inode, Pid, Fd).CompareTo((other.Inode, other.Pid, other.Fd));
    }

    /// <summary>
    /// Who holds a pipe or FIFO. The kernel keeps no map from a pipe to its holders, so every process's fd table is
    /// listed (once per resolver, shared with the scan, on every core) and indexed: anonymous pipes by inode, with
    /// each fd's end read in the listing; FIFOs by path, on the first FIFO asked about, each holder's end read then.
    /// </summary>
    public IReadOnlyList<PipeHolder> PipeHolders(string linkTarget)
    {
        var holders = new List<PipeHolder>();
        if (linkTarget.StartsWith("pipe:[", StringComparison.Ordinal))
        {
            _pipeEnds ??= IndexPipes();
            ulong inode = FdEntry.ParseLink(linkTarget)!.Value.Inode;
            int first = LowerBound(_pipeEnds, inode);
            for (int i = first; i < _pipeEnds.Length && _pipeEnds[i].Inode == inode; i++)
            {
                var end = _pipeEnds[i];
                holders.Add(new PipeHolder(end.Pid, _nameOf(end.Pid), end.Fd, end.Access.HasFlag(FdAccess.Read), end.Access.HasFlag(FdAccess.Write)));
            }

            return holders;
        }

        _pathHolders ??= IndexPaths();
        foreach (var (pid, fd) in _pathHolders.TryGetValue(linkTarget, out var fds) ? fds : new List<(int, int)>())
        {
            if (FileIdentity.StatFd(pid, fd, link: true) is FileStatus link)
            {
                var access = FdEntry.AccessOf(link.Mode);
                holders.Add(new PipeHolder(pid, _nameOf(pid), fd, access.HasFlag(FdAccess.Read), access.HasFlag(FdAccess.Write)));
            }
        }

        return holders;
    }

    /// <summary>
    /// Every process's fd on the socket or pipe with <paramref name="inode"/>, from the host's fd tables (listed once
    /// per resolver); none when no readable process holds it.
    /// </summary>
    public List<(int Pid, int Fd)> HoldersOf(ulong inode)
    {
        var holders = new List<(int, int)>();
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind != FdLinkKind.Other && entry.Inode == inode)
                {
                    holders.Add((table.Pid, entry.Fd));
                }
            }
        }

        return holders;
    }

    /// <summary>
    /// Every other fd on the host that is the same open file as fd <paramref name="fd"/> of <paramref name="pid"/>
    /// (an eventfd shared after fork or passed over a socket): the fds whose link reads the same, asked of kcmp.
    /// </summary>
    public List<(int Pid, int Fd)> HoldersOfSameFile(int pid, int fd, string link)
    {
        var holders = new List<(int, int)>();
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind == FdLinkKind.Other && !(table.Pid == pid && entry.Fd == fd) && entry.Link == link
                    && FileIdentity.SameFile(pid, fd, table.Pid, entry.Fd) == true)
                {
                    holders.Add((table.Pid, entry.Fd));
                }
            }
        }

        return holders;
    }

    /// <summary>
    /// The first process found holding the socket or pipe with <paramref name="inode"/>, and its fd there, from the
    /// host's fd tables (listed once per resolver, shared with the pipe search); null when no readable process does.
    /// </summary>
    public (int Pid, int Fd)? FirstHolderOf(ulong inode)
    {
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind != FdLinkKind.Other && entry.Inode == inode)
                {
                    return (table.Pid, entry.Fd);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The fd table a holder was found in, as listed: which process had the pid then (its identity) and its name, to
    /// tell it from a process that took the pid since. Null if the pid could not be listed.
    /// </summary>
    public FdTable? ListedTable(int pid)
    {
        try
        {
            return _tables.Get(pid);
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    internal IEnumerable<FdTable> HostTables()
    {
        var pids = ProcFs.ListPids();
        _tables.Load(pids);
        foreach (int pid in pids)
        {
            FdTable table;
            try
            {
                table = _tables.Get(pid);
            }
            catch (ProcessAccessDeniedException)
            {
                // A kernel thread holds no fds: not one that may hold the other end.
                if (!Waits.ProcessCondition.IsKernelThread(pid))
                {
                    _denied.Add(pid);
                }

                continue;
            }
            catch (ProcessUnreadableException)
            {
                continue;
            }

            yield return table;
        }
    }

    private PipeFd[] IndexPipes()
    {
        var ends = new List<PipeFd>();
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind == FdLinkKind.Pipe)
                {
                    ends.Add(new PipeFd(entry.Inode, table.Pid, entry.Fd, entry.Access));
                }
            }
        }

        var index = ends.ToArray();
        Array.Sort(index);
        return index;
    }

    private Dictionary<string, List<(int Pid, int Fd)>> IndexPaths()
    {
        var byPath = new Dictionary<string, List<(int, int)>>(StringComparer.Ordinal);
        foreach (var table in HostTables())
        {
            foreach (var entry in table.Entries)
            {
                if (entry.Kind == FdLinkKind.Other && entry.Link.StartsWith('/'))
                {
                    if (!byPath.TryGetValue(entry.Link, out var list))
                    {
                        list = new List<(int, int)>();
                        byPath[entry.Link] = list;
                    }

                    list.Add((table.Pid, entry.Fd));
                }
            }
        }

        return byPath;
    }

    private static int LowerBound(PipeFd[] ends, ulong inode)
    {
        int lo = 0, hi = ends.Length;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (ends[mid].Inode < inode)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
