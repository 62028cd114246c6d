using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;
using EpollTools.Core.Native;

namespace EpollTools.Core.ProcFiles;

/// <summary>What an fd's /proc link names, as an <see cref="FdEntry"/> keeps it.</summary>
public enum FdLinkKind : byte
{
    /// <summary>Anything but a socket or a pipe: a path, "anon_inode:[eventfd]"...; kept as text.</summary>
    Other,

    /// <summary>"socket:[inode]".</summary>
    Socket,

    /// <summary>"pipe:[inode]": an anonymous pipe (a FIFO has a path).</summary>
    Pipe,
}

/// <summary>
/// What an fd was opened for, from the mode of its /proc link (the kernel sets the owner's read and write bits from
/// the file's f_mode): what tells a pipe's read end from its write end.
/// </summary>
[Flags]
public enum FdAccess : byte
{
    None = 0,
    Read = 1,
    Write = 2,
}

/// <summary>
/// One fd of a table as listed. Sockets and pipes are kept by inode, not as the text of their link: a table of
/// 100,000 pipes would otherwise hold 100,000 strings for the length of a scan. A pipe's access is read with it.
/// </summary>
public readonly struct FdEntry
{
    private const string SocketPrefix = "socket:[";
    private const string PipePrefix = "pipe:[";

    private readonly string? _text;

    private FdEntry(int fd, FdLinkKind kind, ulong inode, string? text, FdAccess access)
    {
        Fd = fd;
        Kind = kind;
        Inode = inode;
        _text = text;
        Access = access;
    }

    public int Fd { get; }

    public FdLinkKind Kind { get; }

    /// <summary>The inode a socket or pipe link names; 0 for the others.</summary>
    public ulong Inode { get; }

    /// <summary>Read and/or write for a pipe; <see cref="FdAccess.None"/> for the others (not read).</summary>
    public FdAccess Access { get; }

    /// <summary>The link as readlink gives it.</summary>
    public string Link => Kind switch
    {
        FdLinkKind.Socket => SocketPrefix + Inode.ToString(CultureInfo.InvariantCulture) + "]",
        FdLinkKind.Pipe => PipePrefix + Inode.ToString(CultureInfo.InvariantCulture) + "]",
        _ => _text!,
    };

    /// <summary>
    /// The entry for fd <paramref name="fd"/> whose link is <paramref name="link"/>; <paramref name="pipeAccess"/> is
    /// asked only for a pipe, and null from it (the fd closed after its readlink) gives no entry.
    /// </summary>
    public static FdEntry? Of(int fd, string link, Func<FdAccess?> pipeAccess)
    {
        if (InodeAfter(link, SocketPrefix) is ulong socket)
        {
            return new FdEntry(fd, FdLinkKind.Socket, socket, null, FdAccess.None);
        }

        if (InodeAfter(link, PipePrefix) is ulong pipe)
        {
            return pipeAccess() is FdAccess access ? new FdEntry(fd, FdLinkKind.Pipe, pipe, null, access) : null;
        }

        return new FdEntry(fd, FdLinkKind.Other, 0, link, FdAccess.None);
    }

    /// <summary>
    /// The kind and inode a socket's or a pipe's /proc link names ("socket:[123]", "pipe:[456]"); null for any other
    /// link. The one reader of such links: every other place asks it.
    /// </summary>
    public static (FdLinkKind Kind, ulong Inode)? ParseLink(string link)
        => InodeAfter(link, SocketPrefix) is ulong socket ? (FdLinkKind.Socket, socket)
            : InodeAfter(link, PipePrefix) is ulong pipe ? (FdLinkKind.Pipe, pipe)
            : null;

    /// <summary>The access a link's mode shows (S_IRUSR, S_IWUSR).</summary>
    public static FdAccess AccessOf(int linkMode)
        => ((linkMode & StatxConstants.S_IRUSR) != 0 ? FdAccess.Read : FdAccess.None) | ((linkMode & StatxConstants.S_IWUSR) != 0 ? FdAccess.Write : FdAccess.None);

    private static ulong? InodeAfter(string link, string prefix)
        => link.StartsWith(prefix, StringComparison.Ordinal) && link.EndsWith(']')
            && ulong.TryParse(link.AsSpan(prefix.Length, link.Length - prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode)
            ? inode
            : null;
}

/// <summary>One process's fd table as listed once: its fds ascending, each with its link (a snapshot).</summary>
public sealed class FdTable
{
    private readonly FdEntry[] _entries;

    private FdTable(int pid, FdEntry[] entries, long listedAt, ulong? identity = null, string? processName = null)
    {
        Pid = pid;
        _entries = entries;
        ListedAt = listedAt;
        Identity = identity;
        ProcessName = processName;
    }

    public int Pid { get; }

    /// <summary>The listed process's name (comm) as the listing ended; null if it could not be read.</summary>
    public string? ProcessName { get; }

    /// <summary>Which process had the pid when it was listed (<see cref="FdDirectory.Identity"/>).</summary>
    public ulong? Identity { get; }

    /// <summary>When the listing began (<see cref="Stopwatch.GetTimestamp"/>): every fd opened before then and still open is in it.</summary>
    public long ListedAt { get; }

    public ReadOnlySpan<FdEntry> Entries => _entries;

    /// <summary>A table with no fd, for a process that could not be listed.</summary>
    public static FdTable Empty(int pid) => new(pid, Array.Empty<FdEntry>(), Stopwatch.GetTimestamp());

    /// <summary>
    /// Lists the fds of <paramref name="pid"/> now: a readlink of each, and for a pipe an lstat of its link (which end
    /// it is). An fd closed meanwhile is left out. Throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/>.
    /// </summary>
    /// <param name="pid">The process.</param>
    /// <param name="only">Only these fd numbers (those registered in an instance, say); null for every fd. Such a
    /// table is the caller's: <see cref="FdTables"/> keeps whole ones.</param>
    public static FdTable List(int pid, IReadOnlySet<int>? only = null)
    {
        using var directory = FdDirectory.Open(pid);
        // The name read before and after the fds: a process that renamed itself meanwhile (a forked child taking its
        // own name as it lets go of its parent's fds) is listed again, so that the name and the fds are of one moment.
        for (int attempt = 1; ; attempt++)
        {
            long listedAt = Stopwatch.GetTimestamp();
            string? before = directory.ReadComm();
            var entries = ListEntries(directory, only);
            string? after = directory.ReadComm();
            if (before == after || attempt == 3)
            {
                return new FdTable(pid, entries, listedAt, directory.Identity, after);
            }
        }
    }

    private static FdEntry[] ListEntries(FdDirectory directory, IReadOnlySet<int>? only)
    {
        var numbers = directory.ListFds();
        var entries = new List<FdEntry>(only is null ? numbers.Count : Math.Min(numbers.Count, only.Count));
        foreach (int fd in numbers)
        {
            if (only is not null && !only.Contains(fd))
            {
                continue;
            }

            if (directory.ReadLink(fd) is string link
                && FdEntry.Of(fd, link, () => directory.LinkStatus(fd) is FileStatus status ? FdEntry.AccessOf(status.Mode) : null) is FdEntry entry)
            {
                entries.Add(entry);
            }
        }

        return entries.ToArray();
    }

    /// <summary>The entry of fd <paramref name="fd"/>, if the table has it.</summary>
    public bool TryFind(int fd, out FdEntry entry)
    {
        int lo = 0, hi = _entries.Length - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) / 2);
            int number = _entries[mid].Fd;
            if (number == fd)
            {
                entry = _entries[mid];
                return true;
            }

            if (number < fd)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        entry = default;
        return false;
    }

    /// <summary>The link of fd <paramref name="fd"/> as listed; null if the table has no such fd.</summary>
    public string? Link(int fd) => TryFind(fd, out var entry) ? entry.Link : null;
}

/// <summary>
/// The fd tables of processes, listed once per scan and shared by every reader that needs a whole table: the holders
/// of a shared instance, the host-wide search for a pipe's other end, a large instance's owner. Listing a table reads
/// every link in it, so on a host where processes hold 100,000 pipes, listing each once instead of once per reader is
/// most of the scan; and tables are listed on every core at once where many are wanted together. A snapshot: what
/// changes after a table was listed is not seen.
/// </summary>
public sealed class FdTables
{
    private readonly ConcurrentDictionary<int, FdTable> _tables = new();

    /// <summary>
    /// The table of <paramref name="pid"/>, listed at or after <paramref name="listedSince"/> (a
    /// <see cref="Stopwatch.GetTimestamp"/>; an older one is listed again). Throws <see cref="ProcessGoneException"/>
    /// or <see cref="ProcessAccessDeniedException"/> (a failure is not kept).
    /// </summary>
    /// <remarks>
    /// A registration is judged against a table listed after its interest list was read: one listed before would lack
    /// an fd opened and registered in between, and call a new connection's registration closed.
    /// </remarks>
    /// <summary>The tables listed so far, as they are now (a copy: <see cref="ListedCount"/> says whether any came since).</summary>
    public ICollection<FdTable> Listed => _tables.Values;

    /// <summary>How many tables are listed, without copying them.</summary>
    public int ListedCount => _tables.Count;

    public FdTable Get(int pid, long listedSince = 0)
    {
        if (_tables.TryGetValue(pid, out var table) && table.ListedAt >= listedSince)
        {
            return table;
        }

        table = FdTable.List(pid);
        _tables[pid] = table;
        return table;
    }

    /// <summary>
    /// Lists the tables of <paramref name="pids"/> not listed yet (or not since <paramref name="listedSince"/>), one
    /// process per core at a time (a process's table is read by one thread). A process that is gone or denied is
    /// skipped here; <see cref="Get"/> says so for it.
    /// </summary>
    public void Load(IEnumerable<int> pids, long listedSince = 0)
    {
        var missing = pids.Distinct().Where(pid => !(_tables.TryGetValue(pid, out var table) && table.ListedAt >= listedSince)).ToList();
        if (missing.Count < 2)
        {
            return; // nothing to share out: Get lists it when asked
        }

        InParallel(missing, pid => _tables[pid] = FdTable.List(pid));
    }

    /// <summary>
    /// The tables of <paramref name="pids"/> with only the fds numbered in <paramref name="fds"/>, listed now on every
    /// core and not kept here (a partial table must not stand in for a whole one). A process that is gone or denied
    /// is left out.
    /// </summary>
    public static Dictionary<int, FdTable> ListOnly(IEnumerable<int> pids, IReadOnlySet<int> fds)
    {
        var tables = new ConcurrentDictionary<int, FdTable>();
        InParallel(pids.Distinct().ToList(), pid => tables[pid] = FdTable.List(pid, fds));
        return new Dictionary<int, FdTable>(tables);
    }

    /// <summary>
    /// Lists with <paramref name="list"/> for each pid, one pid at a time per thread: a few processes may hold nearly
    /// every fd, and a static split could give them all to one core. Gone and denied processes are skipped.
    /// </summary>
    private static void InParallel(List<int> pids, Action<int> list)
    {
        try
        {
            Parallel.ForEach(Partitioner.Create(pids, EnumerablePartitionerOptions.NoBuffering), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, pid =>
            {
                try
                {
                    list(pid);
                }
                catch (ProcessUnreadableException)
                {
                    // Left out: the caller lists it again (or goes without) and reports it.
                }
            });
        }
        catch (AggregateException e)
        {
            // The fd limit (LinuxErrorException) or a bug: thrown as itself, as a serial listing would.
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }
}
