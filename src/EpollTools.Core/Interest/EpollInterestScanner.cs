using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.ExceptionServices;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Interest;

/// <summary>
/// One epoll fd found in a process. Its fdinfo is read when its instance is expanded, not kept from the search: on a
/// busy host that would be every registration of every process at once. <paramref name="Identity"/>, where known,
/// names the process that was found: a process that took its pid since is not read in its place.
/// </summary>
public sealed record EpollFdRecord(int Pid, string ProcessName, int Fd, ulong? Identity = null);

/// <summary>What <see cref="EpollInterestScanner.Expand"/> reads beyond the interest list itself, or leaves out.</summary>
/// <param name="Readiness">Poll each registered file for what is ready now (see <see cref="ReadinessProbe"/>).</param>
/// <param name="SharedTargets">The files registered in several of the instances read, for the EXCLUSIVE-mix diagnosis.</param>
/// <param name="Only">Only the registrations of the files it matches, with the threads waiting on the instance
/// (<see cref="EpollInterest.WaitingThreadIds"/>).</param>
/// <param name="NoResolve">Nothing read per registration: no target resolved, no state judged (<see cref="RegistrationState.NotChecked"/>).</param>
public sealed record ExpandOptions(ReadinessProbe? Readiness = null, SharedTargets? SharedTargets = null, TargetMatcher? Only = null, bool NoResolve = false);

/// <summary>
/// Finds the epoll instances of processes and turns their fdinfo into <see cref="EpollInterest"/> objects:
/// flags decoded, targets resolved, stale registrations found with kcmp(KCMP_EPOLL_TFD).
/// </summary>
public sealed class EpollInterestScanner
{
    private const string EventPollTarget = "anon_inode:[eventpoll]";

    /// <summary>
    /// kcmp(KCMP_EPOLL_TFD) finds the registration by walking the instance's tree from the start (ep_find_tfd in
    /// fs/eventpoll.c), so checking every line of a large instance costs O(n^2) in the kernel. Lines whose inode and
    /// device already answer are never sent to kcmp; the rest only while the instance is at most this large.
    /// </summary>
    public const int ExactCheckLimit = 4096;

    /// <summary>
    /// Past this many registrations of an instance held by several processes, the links of the holders' fds are read
    /// from their fd tables, listed once (on every core) and shared with the search for pipes' other ends, instead of
    /// one readlink per registration and holder tried. An instance with one holder reads the link of each registered
    /// fd alone: a readlink each either way, and its first row is not held back by listing the whole table.
    /// </summary>
    public const int TableLookupThreshold = 1024;

    /// <summary>Windows in which no holder runs, tried per instance to prove a registered file is under no fd.</summary>
    private const int MaxQuietWindows = 3;


    private readonly Action<string> _verbose;

    /// <summary>The holds of processes read in this scan (see <see cref="HoldOf"/>).</summary>
    private readonly Dictionary<int, ThreadCondition> _holds = new();

    public EpollInterestScanner(Action<string>? verbose = null)
    {
        _verbose = verbose ?? (_ => { });
        Resolver = new TargetResolver(Tables);
    }

    /// <summary>The fd tables this scanner has listed, shared with its resolver.</summary>
    public FdTables Tables { get; } = new();

    public TargetResolver Resolver { get; }

    /// <summary>
    /// The epoll fds of <paramref name="pid"/> (or just <paramref name="epollFd"/>), found by their links alone.
    /// Throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/> for the process as a whole.
    /// </summary>
    public List<EpollFdRecord> FindInstances(int pid, int? epollFd = null) => FindInstances(pid, epollFd, out _);

    /// <summary>As <see cref="FindInstances(int, int?)"/>, also giving the process name read on the way (for a process with none).</summary>
    public List<EpollFdRecord> FindInstances(int pid, int? epollFd, out string processName)
    {
        // The name is read from the process the fds are read from (its pinned /proc directory), after them: by path
        // before, it could be another process's that had the pid, or this one's before it renamed itself.
        // One epoll fd asked for: look at it alone, rather than reading the link of every fd of the process. Else
        // the whole table, listed once for this scan (the holder search and the pipe pass use it again).
        if (epollFd is int only)
        {
            using var directory = FdDirectory.Open(pid);
            bool isEpoll = directory.ReadLink(only) == EventPollTarget;
            string single = processName = directory.ReadComm() ?? throw new ProcessGoneException(pid);
            return isEpoll ? new List<EpollFdRecord> { new(pid, single, only, directory.Identity) } : new List<EpollFdRecord>();
        }

        var records = new List<EpollFdRecord>();
        var table = Tables.Get(pid);
        // A table listed earlier in this scan may be of a process that has exited since.
        string name = processName = table.ProcessName is string listedName && ProcFs.ProcessExists(pid) ? listedName : throw new ProcessGoneException(pid);
        foreach (var entry in table.Entries)
        {
            if (entry.Kind == FdLinkKind.Other && entry.Link == EventPollTarget)
            {
                records.Add(new EpollFdRecord(pid, name, entry.Fd, table.Identity));
            }
        }

        return records;
    }

    /// <summary>
    /// Groups epoll fds that are one instance (shared after fork or fd passing), with kcmp(KCMP_FILE): sorted by the
    /// kernel's order of their files, the fds of one instance come together (O(n log n) calls, no fdinfo read). If
    /// kcmp fails for any pair (a process gone, no permission), each fd is compared with each group found so far, and
    /// a pair kcmp cannot tell stays apart. Groups keep the order of the records; so do the fds within a group.
    /// </summary>
    public static List<List<EpollFdRecord>> GroupSharedInstances(IReadOnlyList<EpollFdRecord> records)
    {
        var unique = records.Distinct().ToList();
        var order = unique.Select((r, i) => (Record: r, Index: i)).ToDictionary(x => x.Record, x => x.Index);
        var groups = GroupByKernelOrder(unique) ?? GroupPairwise(unique);
        foreach (var group in groups)
        {
            group.Sort((a, b) => order[a].CompareTo(order[b]));
        }

        groups.Sort((a, b) => order[a[0]].CompareTo(order[b[0]]));
        return groups;
    }

    private static List<List<EpollFdRecord>>? GroupByKernelOrder(IReadOnlyList<EpollFdRecord> records)
    {
        bool failed = false;
        int Compare(EpollFdRecord a, EpollFdRecord b)
        {
            int? order = ReferenceEquals(a, b) ? 0 : ProcFs.CompareFiles(a.Pid, a.Fd, b.Pid, b.Fd);
            failed |= order is null;
            return order ?? 0;
        }

        var sorted = records.ToList();
        try
        {
            sorted.Sort(Compare);
        }
        catch (InvalidOperationException)
        {
            // A comparison that failed midway can leave the sort inconsistent; the pairwise grouping takes over.
            return null;
        }

        var groups = new List<List<EpollFdRecord>>();
        foreach (var record in sorted)
        {
            if (groups.Count > 0 && Compare(groups[^1][0], record) == 0)
            {
                groups[^1].Add(record);
            }
            else
            {
                groups.Add(new List<EpollFdRecord> { record });
            }
        }

        return failed ? null : groups;
    }

    private static List<List<EpollFdRecord>> GroupPairwise(IReadOnlyList<EpollFdRecord> records)
    {
        var groups = new List<List<EpollFdRecord>>();
        foreach (var record in records)
        {
            var group = groups.FirstOrDefault(g => ProcFs.SameFile(g[0].Pid, g[0].Fd, record.Pid, record.Fd) == true);
            if (group is null)
            {
                groups.Add(new List<EpollFdRecord> { record });
            }
            else
            {
                group.Add(record);
            }
        }

        return groups;
    }

    /// <summary>
    /// The registrations of one instance, by target fd. Its fdinfo is read here, from the first holder that
    /// still has it open. A registration's tfd is a number in the fd table of whichever process registered it: for
    /// an instance held by several processes, each line is resolved in the first holder where that fd is the
    /// registered file (<see cref="EpollInterest.TargetProcessId"/>), else judged as the first holder sees it.
    /// </summary>
    /// <param name="instance">The holders of one instance, as <see cref="GroupSharedInstances"/> gives them.</param>
    /// <param name="options">What more to read, or less (see <see cref="ExpandOptions"/>); none by default.</param>
    public IEnumerable<EpollInterest> Expand(IReadOnlyList<EpollFdRecord> instance, ExpandOptions? options = null)
    {
        var (readiness, sharedTargets, only, noResolve) = options ?? new ExpandOptions();

        // Each holder's /proc/<pid> opened once for the instance and everything read relative to it: the fdinfo, the
        // links (a fifth cheaper than by full path), the files' status. A process that exits is then never read in
        // the place of one that takes its pid, and one that took the pid since the search is not read at all.
        using var directories = new FdDirectories();
        if (ReadFromFirstHolder(instance, directories, out var failure) is not { } read)
        {
            if (failure is not null)
            {
                ExceptionDispatchInfo.Throw(failure); // no holder could be read: the first one's reason is the instance's
            }

            var first = instance[0];
            _verbose(directories.Of(first.Pid, first.Identity)?.IsAlive == true
                ? $"Process {first.Pid}: epoll fd {first.Fd} was closed while it was read; skipped."
                : ExitedWhileRead(first));
            yield break;
        }

        var (owner, info) = read;
        foreach (var error in info.Errors)
        {
            _verbose($"Process {owner.Pid} epoll fd {owner.Fd}: line {error.LineNumber} not understood ({error.Reason}): {error.Line}");
        }

        // Tables used to judge these lines are listed after this point: one listed earlier (by the search for epoll
        // fds) would lack an fd opened and registered since, and call that registration closed.
        long readAt = Stopwatch.GetTimestamp();
        ItemList<string> holders = instance.Select(r => $"{r.Pid}:{r.Fd}").ToArray(); // one list for every row of the instance
        Dictionary<int, FdTable>? registeredOnly = null;
        var identities = instance.GroupBy(r => r.Pid).ToDictionary(g => g.Key, g => g.First().Identity);
        FdTable TableOf(int pid)
        {
            var table = registeredOnly is not null && registeredOnly.TryGetValue(pid, out var listed) ? listed : Tables.Get(pid, readAt);
            // Listed by pid: a table of a process that took the pid since is none of this instance's.
            return identities.TryGetValue(pid, out var identity) && identity is not null && table.Identity != identity ? throw new ProcessGoneException(pid) : table;
        }

        var others = new OtherHolders(instance.Select(r => r.Pid).Where(p => p != owner.Pid).Distinct(),
            pids => { if (registeredOnly is null) { Tables.Load(pids, readAt); } }, pid => SafeTable(pid, TableOf));
        bool exact = info.EpollTargets.Count <= ExactCheckLimit;
        bool fromTables = others.Any && info.EpollTargets.Count > TableLookupThreshold;
        // Naming each unix socket's peer may list every process's fds: past this size, only from tables listed anyway.
        Resolver.SearchHostForPeers = info.EpollTargets.Count <= TableLookupThreshold;
        if (fromTables && !noResolve)
        {
            // Every holder's table is wanted, listed on every core at once. A pipe needs whole tables (the search for
            // its other ends shares them); with none registered, only the registered fd numbers are read (for socket
            // pairs, half the links).
            var pids = instance.Select(r => r.Pid);
            if (info.EpollTargets.Any(line => PseudoFilesystems.IsOn(line, PseudoFilesystems.SockFs)))
            {
                Resolver.PrefetchSockets(owner.Pid);
            }

            if (info.EpollTargets.Any(line => PseudoFilesystems.IsOn(line, PseudoFilesystems.PipeFs)))
            {
                Tables.Load(pids, readAt);
            }
            else
            {
                registeredOnly = FdTables.ListOnly(pids, info.EpollTargets.Select(line => line.Tfd).ToHashSet());
            }
        }

        bool ownerGone = false;
        FileStatus? StatusOf(int pid, int fd) => directories.Of(pid, identities.GetValueOrDefault(pid))?.Status(fd);
        string? LinkOf(int pid, int fd)
        {
            if (!fromTables)
            {
                return directories.Of(pid, identities.GetValueOrDefault(pid))?.ReadLink(fd);
            }

            try
            {
                return TableOf(pid).Link(fd);
            }
            catch (ProcessGoneException)
            {
                ownerGone |= pid == owner.Pid;
                return null; // as a readlink of a process that is gone: the caller tells a closed fd from an exit
            }
        }

        FdTable? ownerFds = null;
        // A stale line whose file is under no fd is proven so only in a window where none of the holders ran: the
        // holders' run stamp then, and the interest list read in that window (see the stale branch below).
        string? stillSince = null;
        FdInfo? stillList = null;
        int windowsTried = 0;
        int[] holderPids = instance.Select(r => r.Pid).Distinct().ToArray();
        ItemList<int>? waiting = null;
        foreach (var line in info.EpollTargets.OrderBy(t => t.Tfd).ThenBy(t => t.Offset))
        {
            if (only is not null)
            {
                if (!only.Matches(owner, line))
                {
                    continue;
                }

                // Read once per instance, and only for an instance that has a registration asked for.
                waiting ??= MultiplexerWaitScanner.ThreadsWaitingOn(instance);
            }

            HolderVerdict verdict;
            int? stillOpenAs = null;
            (TargetKind Kind, string Description) target;
            EpollEvents? ready = null;
            if (noResolve)
            {
                // Nothing read per registration: what fdinfo says, as ss -n and lsof -n show numbers only.
                verdict = new HolderVerdict(owner.Pid, null, RegistrationState.NotChecked, null);
                target = (TargetKind.Unknown, $"ino {line.Ino:x}, device {line.Device}");
            }
            else
            {
                string? current = LinkOf(owner.Pid, line.Tfd);
                verdict = new HolderVerdict(owner.Pid, current, Classify(owner.Pid, owner, line, current, exact, info.Ino, StatusOf));
                if (verdict.State != RegistrationState.Current && others.Any)
                {
                    verdict = JudgeInOtherHolders(owner, line, exact, info.Ino, others, verdict, LinkOf, StatusOf);
                }

                // A missing fd is a closed registration only while the owner lives and is not exiting: an exiting
                // process closes every fd (PF_EXITING is set before), and one that is gone reads as none. Asked after
                // the link was read (a process not exiting then was not exiting when it was read), and only for a
                // line no holder has: in a shared instance most lines are other holders' fds.
                if (current is null && verdict.State == RegistrationState.Stale && (ownerGone || directories.HasExited(owner.Pid)))
                {
                    // Not a stale registration: the whole process went away while it was being read.
                    _verbose(ExitedWhileRead(owner));
                    yield break;
                }

                if (verdict.State == RegistrationState.Stale)
                {
                    if (exact)
                    {
                        ownerFds ??= SafeTable(owner.Pid, pid => Tables.Get(pid, readAt)); // the whole table: the file may be under any fd
                        stillOpenAs = FindHolder(owner, line, ownerFds);
                        if (stillOpenAs is null)
                        {
                            // The table may predate a dup made just before the registered number was closed, and
                            // lines of anonymous inodes look alike: no line can be followed through a change. So
                            // "not open" is said only from a window in which no holder ran (their threads' schedstat
                            // unchanged across it): the table listed and the interest list read again inside it,
                            // the line still there, and no fd of the table (the registered number included) its file.
                            // A window stays good for later lines while the holders still have not run; a process
                            // busy all along gives none, so only a few are tried per instance.
                            bool relisted = false;
                            if ((stillSince is null || ProcFs.ReadRunStamp(holderPids) != stillSince) && windowsTried++ < MaxQuietWindows)
                            {
                                relisted = true;
                                (stillSince, stillList) = (null, null);
                                string? before = ProcFs.ReadRunStamp(holderPids);
                                ownerFds = SafeTable(owner.Pid, pid => Tables.Get(pid, Stopwatch.GetTimestamp()));
                                var again = ReadAgain(owner, directories);
                                if (before is not null && again is not null && ProcFs.ReadRunStamp(holderPids) == before)
                                {
                                    (stillSince, stillList) = (before, again);
                                }
                            }

                            // The table searched above, unchanged, needs only the registered number asked again.
                            stillOpenAs = relisted ? FindHolder(owner, line, ownerFds, includingTfd: true)
                                : ProcFs.SameEpollTarget(owner.Pid, line.Tfd, owner.Pid, owner.Fd, line.Tfd, line.Offset) == true ? line.Tfd : null;
                            if (stillOpenAs is null && stillSince is not null && ProcFs.ReadRunStamp(holderPids) != stillSince)
                            {
                                (stillSince, stillList) = (null, null); // kcmp's answers count only while nothing ran
                            }

                            if (stillOpenAs == line.Tfd)
                            {
                                stillOpenAs = null; // the number holds the registered file again: it changed while read
                                stillList = null;
                            }

                            if (stillOpenAs is null && (stillSince is null || stillList is null || !stillList.EpollTargets.Contains(line)))
                            {
                                verdict = verdict with { State = RegistrationState.Unknown };
                            }
                        }
                    }

                    var described = stillOpenAs is int holder ? DescribeHolder(owner, line, holder) : null;
                    bool moved = stillOpenAs is not null && described is null;
                    if (moved)
                    {
                        _verbose($"Process {owner.Pid} epoll fd {owner.Fd}: the file registered as fd {line.Tfd} moved away from fd {stillOpenAs} while it was read; its target is reported Unknown.");
                        stillOpenAs = null;
                        verdict = verdict with { State = RegistrationState.Unknown };
                    }

                    string file = $"(ino {line.Ino:x}, device {line.Device})";
                    target = described
                        ?? (moved ? (TargetKind.Unknown, $"unproven: the registered file {file} moved to another fd while it was read")
                            : verdict.State == RegistrationState.Unknown ? (TargetKind.Unknown, $"unproven: the registered file {file} was under no fd found while the process changed its interest list")
                            : (TargetKind.Unknown, $"registered file not open in {(others.Any ? "these processes" : "this process")} {file}"));
                }
                else if (verdict.State == RegistrationState.Unknown && exact && directories.HasExited(owner.Pid))
                {
                    // kcmp fails on a process whose fds are going: not a registration it could not tell. (Past the
                    // exact-check limit kcmp is not asked, and Unknown is by design: nothing to check per row.)
                    _verbose(ExitedWhileRead(owner));
                    yield break;
                }
                else
                {
                    target = Resolver.Resolve(verdict.Pid, line.Tfd, verdict.Link, directories);
                    if (verdict.State == RegistrationState.Current && LinkInode(verdict.Link!) is null
                        && !StillTheRegisteredFile(owner, verdict, line, exact, info.Ino, directories))
                    {
                        // An anonymous inode or a file with a path was judged (kcmp, statx) and described (its fdinfo,
                        // statx) in reads after its link: if the number shows another link now, the file described
                        // may not be the one judged. (A socket or pipe is judged and described by the inode its link
                        // names.) A process that is exiting closes them all: not a change of its registrations.
                        if (verdict.Pid == owner.Pid && directories.HasExited(owner.Pid))
                        {
                            _verbose(ExitedWhileRead(owner));
                            yield break;
                        }

                        verdict = verdict with { State = RegistrationState.Unknown };
                        target = (TargetKind.Unknown, $"unproven: fd {line.Tfd} changed while it was read (it was {verdict.Link})");
                    }
                    else if (verdict.State == RegistrationState.Unknown)
                    {
                        // What the fd is now, said as such: it is not proven to be the registered file.
                        target = (TargetKind.Unknown, $"unproven: fd {line.Tfd} is now {target.Description}");
                    }
                }

                if (readiness is not null && (verdict.State == RegistrationState.Current || stillOpenAs is not null))
                {
                    // The copy is checked to be the registered file (the fd may have changed since it was judged).
                    var (pid, fd) = verdict.State == RegistrationState.Current ? (verdict.Pid, line.Tfd) : (owner.Pid, stillOpenAs!.Value);
                    ready = readiness.Probe(pid, fd, copy => exact
                        ? ProcFs.SameEpollTarget(Environment.ProcessId, copy, owner.Pid, owner.Fd, line.Tfd, line.Offset) == true
                        : line.Ino is ulong ino && ProcFs.StatFd(Environment.ProcessId, copy)?.Ino == ino);
                }
            }

            // kcmp, pidfd_open and a stale line's search for its holder name the process by its pid: they were about the process read here
            // only if it still exists now (a pid is not reused while its process lives, even as a zombie).
            bool askedByPid = !noResolve && (readiness is not null || (exact && (line.Ino == info.Ino || verdict.State == RegistrationState.Stale)));
            if (askedByPid && !directories.IsAlive(owner.Pid))
            {
                _verbose(ExitedWhileRead(owner));
                yield break;
            }

            var interest = new EpollInterest
            {
                ProcessId = owner.Pid,
                ProcessName = owner.ProcessName,
                EpollFd = owner.Fd,
                EpollInode = info.Ino,
                Holders = holders,
                TargetFd = line.Tfd,
                TargetProcessId = verdict.Pid,
                Events = line.Events,
                Data = line.Data,
                Pos = line.Pos,
                TargetInode = line.Ino,
                TargetDevice = line.Device,
                Offset = line.Offset,
                TargetKind = target.Kind,
                Target = target.Description,
                State = verdict.State,
                StaleReason = verdict.Reason,
                StillOpenAs = stillOpenAs,
                ReadyEvents = ready,
            };
            var diagnoses = RegistrationDiagnoses.Of(interest);
            if (ready is EpollEvents readyNow && Array.FindIndex(diagnoses, d => d.Kind == DiagnosisKind.EdgeTriggeredUnread) is int unread and >= 0
                && HoldOf(verdict.Pid).DiagnoseReady(verdict.Pid, line.Tfd, EpollEventsText.ToShortString(readyNow & line.Events & EpollEventGroups.Input)) is Diagnosis held)
            {
                // Data left unread by a process that cannot run is not a fault in its reads.
                diagnoses[unread] = held;
            }

            interest.Diagnoses = sharedTargets?.For(interest) is Diagnosis mix ? diagnoses.Append(mix).ToArray() : diagnoses;
            interest.WaitingThreadIds = waiting;
            yield return interest;
        }
    }

    private static string ExitedWhileRead(EpollFdRecord owner) => $"Process {owner.Pid} exited while its epoll fd {owner.Fd} was being read; the rest of it is skipped.";

    /// <summary>Whether a process is held (stopped, traced, frozen, exiting), read once per scan and only when a diagnosis depends on it.</summary>
    private ThreadCondition HoldOf(int pid)
    {
        if (!_holds.TryGetValue(pid, out var condition))
        {
            _holds[pid] = condition = ThreadCondition.OfProcess(pid);
        }

        return condition;
    }

    /// <summary>
    /// The files registered in more than one of <paramref name="instances"/> (as <see cref="GroupSharedInstances"/>
    /// gives them) with EXCLUSIVE in some, from one more read of each instance's fdinfo (two where any registration is
    /// EXCLUSIVE); nothing to read for a single instance. An instance that cannot be read is left out (its expansion
    /// reports it).
    /// </summary>
    public static SharedTargets FindSharedTargets(IReadOnlyList<IReadOnlyList<EpollFdRecord>> instances)
    {
        if (instances.Count < 2)
        {
            return SharedTargets.None;
        }

        // Lazy: each instance is parsed as it is read and let go, and read again only if the index needs a second pass.
        using var directories = new FdDirectories();
        return SharedTargets.Build(instances
            .Select(holders => ReadFromFirstHolder(holders, directories, out _))
            .OfType<(EpollFdRecord Holder, FdInfo Info)>()
            .Select(read => ($"{read.Holder.Pid}:{read.Holder.Fd}", read.Info)));
    }

    /// <summary>
    /// An instance's interest list, parsed as it is read from the first of its holders whose fdinfo can be read: a
    /// holder that exited or that this caller may not read is passed over while another can serve. Null when none
    /// can, with the first such failure met (none when the epoll fd was closed everywhere).
    /// </summary>
    private static (EpollFdRecord Holder, FdInfo Info)? ReadFromFirstHolder(IReadOnlyList<EpollFdRecord> instance, FdDirectories directories, out Exception? failure)
    {
        failure = null;
        foreach (var holder in instance)
        {
            try
            {
                if (directories.Of(holder.Pid, holder.Identity)?.ParseFdInfo(holder.Fd) is FdInfo info)
                {
                    return (holder, info);
                }
            }
            catch (ProcessUnreadableException e)
            {
                failure ??= e;
            }
        }

        return null;
    }

    /// <summary>
    /// How many registrations <paramref name="epollFd"/> of <paramref name="pid"/> has when every one of them is stale
    /// as that process sees it (its tfd closed, or another file there); null when one is current or cannot be told,
    /// when the list is empty, or when the fdinfo cannot be read. Stops at the first registration that is not stale,
    /// so a healthy instance costs a readlink or two. Past <see cref="ExactCheckLimit"/> registrations, lines on
    /// anonymous inodes cannot be told and the answer is null.
    /// </summary>
    public static int? CountIfAllStale(int pid, int epollFd)
    {
        if (SafeParseFdInfo(pid, epollFd) is not FdInfo info)
        {
            return null;
        }

        var epoll = new EpollFdRecord(pid, string.Empty, epollFd);
        bool exact = info.EpollTargets.Count <= ExactCheckLimit;

        foreach (var line in info.EpollTargets)
        {
            string? current;
            try
            {
                current = ProcFs.ReadFdTarget(pid, line.Tfd);
            }
            catch (ProcessUnreadableException)
            {
                return null;
            }

            if (Classify(pid, epoll, line, current, exact, info.Ino, (p, fd) => ProcFs.StatFd(p, fd)).Item1 != RegistrationState.Stale)
            {
                return null;
            }
        }

        // A process that exits closes every fd: that is not a wait on stale registrations.
        return info.EpollTargets.Count > 0 && !ProcessCondition.HasExited(pid) ? info.EpollTargets.Count : null;
    }

    private static FdInfo? SafeParseFdInfo(int pid, int fd)
    {
        try
        {
            return ProcFs.ParseFdInfo(pid, fd);
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    /// <summary>How one holder sees a registration: its link for the tfd, and whether that is the registered file.</summary>
    private readonly record struct HolderVerdict(int Pid, string? Link, RegistrationState State, string? Reason)
    {
        public HolderVerdict(int pid, string? link, (RegistrationState State, string? Reason) verdict)
            : this(pid, link, verdict.State, verdict.Reason)
        {
        }
    }

    /// <summary>
    /// A registration that is not the owner's file: the first other holder where it is current wins, else the first
    /// where it cannot be told, else the owner's verdict stands. Sockets and pipes are looked up by fd and inode at once.
    /// </summary>
    private static HolderVerdict JudgeInOtherHolders(EpollFdRecord owner, EpollTargetLine line, bool exact, ulong? anonymousInode, OtherHolders others, HolderVerdict ownerVerdict, Func<int, int, string?> linkOf, Func<int, int, FileStatus?> statusOf)
    {
        HolderVerdict? unknown = ownerVerdict.State == RegistrationState.Unknown ? ownerVerdict : null;
        var candidates = line.Ino is ulong ino && others.FindByInode(line.Tfd, ino) is int likely ? others.Pids.Prepend(likely).Distinct() : others.Pids;
        foreach (int pid in candidates)
        {
            string? link;
            try
            {
                link = linkOf(pid, line.Tfd);
            }
            catch (ProcessAccessDeniedException)
            {
                continue; // a holder this caller may not look into cannot vouch for the registration
            }

            if (link is null)
            {
                continue;
            }

            var verdict = new HolderVerdict(pid, link, Classify(pid, owner, line, link, exact, anonymousInode, statusOf));
            if (verdict.State == RegistrationState.Current)
            {
                return verdict;
            }

            unknown ??= verdict.State == RegistrationState.Unknown ? verdict : null;
        }

        return unknown ?? ownerVerdict;
    }

    /// <summary>The holders of a shared instance besides the one whose fdinfo is read.</summary>
    private sealed class OtherHolders
    {
        private readonly Action<IEnumerable<int>> _load;
        private readonly Func<int, FdTable> _table;
        private FdTable[]? _listed;

        public OtherHolders(IEnumerable<int> pids, Action<IEnumerable<int>> load, Func<int, FdTable> table)
        {
            Pids = pids.ToList();
            _load = load;
            _table = table;
        }

        public List<int> Pids { get; }

        public bool Any => Pids.Count > 0;

        /// <summary>
        /// The holder whose <paramref name="fd"/> is the socket or pipe with <paramref name="inode"/>, looked up in
        /// their fd tables (listed on first use), so that a large shared instance costs a lookup per line, not a
        /// readlink per holder.
        /// </summary>
        public int? FindByInode(int fd, ulong inode)
        {
            if (_listed is null)
            {
                _load(Pids);
                _listed = Pids.Select(_table).ToArray();
            }

            foreach (var table in _listed)
            {
                if (table.TryFind(fd, out var entry) && entry.Kind != FdLinkKind.Other && entry.Inode == inode)
                {
                    return table.Pid;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Is fd tfd of <paramref name="pid"/> the file registered in <paramref name="epoll"/>? A closed fd, or an inode and device that differ, answer at once. When they
    /// match, the file is the same unless it is an anonymous inode (eventfd, timerfd, epoll... all share one inode):
    /// then kcmp says exactly, if <paramref name="exact"/> allows it. The inode is read from the link where the link
    /// shows it ("socket:[123]", "pipe:[123]") or, for anonymous inodes, is the epoll fd's own (they share it);
    /// statx only for files with a path.
    /// </summary>
    /// <param name="statusOf">statx of a process's fd (the link followed), for files with a path.</param>
    private static (RegistrationState, string?) Classify(int pid, EpollFdRecord epoll, EpollTargetLine line, string? current, bool exact, ulong? anonymousInode, Func<int, int, FileStatus?> statusOf)
    {
        if (current is null)
        {
            return (RegistrationState.Stale, $"fd {line.Tfd} is closed");
        }

        // Both on the one shared anonymous inode: inode and device cannot tell them apart. (Some anon_inode: files,
        // such as pidfds on newer kernels, have inodes of their own: statx compares those.)
        bool shared = line.Ino is ulong lineIno && lineIno == anonymousInode && current.StartsWith("anon_inode:", StringComparison.Ordinal);
        bool? sameInode = shared || line.Ino is not ulong ino ? null
            : LinkInode(current) is ulong linked ? ino == linked
            : SameInodeByStat(statusOf(pid, line.Tfd), line, ino);
        if (sameInode == false)
        {
            return (RegistrationState.Stale, $"fd {line.Tfd} now refers to another file ({current})");
        }

        if (sameInode == true)
        {
            return (RegistrationState.Current, null);
        }

        if (!exact)
        {
            return (RegistrationState.Unknown, null);
        }

        return ProcFs.SameEpollTarget(pid, line.Tfd, epoll.Pid, epoll.Fd, line.Tfd, line.Offset) switch
        {
            true => (RegistrationState.Current, null),
            false => (RegistrationState.Stale, $"fd {line.Tfd} now refers to another file ({current})"),
            _ => (RegistrationState.Unknown, null),
        };
    }

    /// <summary>The inode a "socket:[123]" or "pipe:[123]" link names.</summary>
    private static ulong? LinkInode(string link)
    {
        int open = link.IndexOf(":[", StringComparison.Ordinal);
        return open > 0 && link.EndsWith(']') && !link.StartsWith("anon_inode:", StringComparison.Ordinal)
            && ulong.TryParse(link.AsSpan(open + 2, link.Length - open - 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong inode)
            ? inode
            : null;
    }

    private static bool? SameInodeByStat(FileStatus? fdStatus, EpollTargetLine line, ulong ino)
    {
        if (fdStatus is not FileStatus status || line.KernelDevice is not uint dev)
        {
            return null;
        }

        return status.Ino == ino && status.DevMajor == DeviceNumbers.KernelMajor(dev) && status.DevMinor == DeviceNumbers.KernelMinor(dev);
    }

    /// <summary>
    /// Describes the registered file from <paramref name="holder"/>, the fd of the owner that kcmp found holding it.
    /// The fd list the holder was found in is a snapshot: the process may have closed and reopened that number since.
    /// So the link is read now, the target resolved from it, and kcmp asked again afterwards: only if the holder is
    /// still the registered file is the description returned; else null, and the caller reports the target Unknown.
    /// </summary>
    private (TargetKind Kind, string Description)? DescribeHolder(EpollFdRecord owner, EpollTargetLine line, int holder)
    {
        string? link = ProcFs.ReadFdTarget(owner.Pid, holder);
        if (link is null)
        {
            return null;
        }

        var described = Resolver.Resolve(owner.Pid, holder, link);
        // kcmp names the registration by its tfd and its index among the lines with that tfd, and both can shift
        // while the process changes its interest list: the link must also still be the one just described.
        return ProcFs.SameEpollTarget(owner.Pid, holder, owner.Pid, owner.Fd, line.Tfd, line.Offset) == true
            && ProcFs.ReadFdTarget(owner.Pid, holder) == link
            ? described
            : null;
    }

    /// <summary>
    /// Whether a current registration's number is still the file it was judged and described as: the same link now
    /// and, where kcmp judged it (an anonymous inode, whose inode every such file shares), kcmp saying so again after
    /// that link: the description, made between the two judgements, was of the registered file.
    /// </summary>
    private static bool StillTheRegisteredFile(EpollFdRecord owner, HolderVerdict verdict, EpollTargetLine line, bool exact, ulong? anonymousInode, FdDirectories directories)
    {
        if (directories.ReadLink(verdict.Pid, line.Tfd) != verdict.Link)
        {
            return false;
        }

        bool judgedByKcmp = exact && line.Ino is ulong ino && ino == anonymousInode;
        return !judgedByKcmp || ProcFs.SameEpollTarget(verdict.Pid, line.Tfd, owner.Pid, owner.Fd, line.Tfd, line.Offset) == true;
    }

    /// <summary>The owner's interest list read again; null if it cannot be.</summary>
    private static FdInfo? ReadAgain(EpollFdRecord owner, FdDirectories directories)
    {
        try
        {
            return directories.Of(owner.Pid, owner.Identity)?.ParseFdInfo(owner.Fd);
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    /// <summary>
    /// The fd of the owner that still holds a stale registration's file, found with kcmp among fds of the same inode.
    /// The registered number itself is asked only with <paramref name="includingTfd"/>: it was judged not to be the
    /// file just before, so a kcmp saying otherwise met a registration made since.
    /// </summary>
    private static int? FindHolder(EpollFdRecord owner, EpollTargetLine line, FdTable fds, bool includingTfd = false)
    {
        foreach (var entry in fds.Entries)
        {
            int fd = entry.Fd;
            if (fd == line.Tfd && !includingTfd)
            {
                continue;
            }

            if (line.Ino is ulong ino && ProcFs.StatFd(owner.Pid, fd) is { } status && status.Ino != ino)
            {
                continue;
            }

            if (ProcFs.SameEpollTarget(owner.Pid, fd, owner.Pid, owner.Fd, line.Tfd, line.Offset) == true)
            {
                return fd;
            }
        }

        return null;
    }

    /// <summary>The table <paramref name="table"/> gives for <paramref name="pid"/>, or an empty one (said in a verbose line) if it cannot be listed.</summary>
    private FdTable SafeTable(int pid, Func<int, FdTable> table)
    {
        try
        {
            return table(pid);
        }
        catch (ProcessUnreadableException e)
        {
            _verbose($"Process {pid}: its fds could not be listed again ({e.Message}).");
            return FdTable.Empty(pid);
        }
    }
}
