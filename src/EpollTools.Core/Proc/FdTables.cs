using System.Collections.Generic;

namespace EpollTools.Core.Proc;

/// <summary>
/// The fd tables of processes (each fd with its link), listed once per scan and shared by every reader that needs a
/// whole table: the holders of a shared instance, the host-wide search for a pipe's other end, a large instance's
/// owner. Listing a table reads every link in it, so on a host where one process holds 100,000 pipes, reading it
/// once instead of once per reader is most of the scan. A snapshot: what changes after it was listed is not seen.
/// </summary>
public sealed class FdTables
{
    private readonly Dictionary<int, List<(int Fd, string Target)>> _tables = new();
    private readonly Dictionary<int, Dictionary<int, string>> _byFd = new();

    /// <summary>The fds of <paramref name="pid"/>, ascending; throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/> (not cached).</summary>
    public List<(int Fd, string Target)> Get(int pid)
    {
        if (!_tables.TryGetValue(pid, out var table))
        {
            table = ProcFs.ListFds(pid);
            _tables[pid] = table;
        }

        return table;
    }

    /// <summary>The link of fd <paramref name="fd"/> of <paramref name="pid"/> as listed; null if the table has no such fd.</summary>
    public string? Link(int pid, int fd)
    {
        if (!_byFd.TryGetValue(pid, out var links))
        {
            links = new Dictionary<int, string>();
            foreach (var (number, target) in Get(pid))
            {
                links[number] = target;
            }

            _byFd[pid] = links;
        }

        return links.TryGetValue(fd, out string? link) ? link : null;
    }
}
