using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Interest;

/// <summary>
/// One read of one instance's interest list, line by line into rows: each line judged (<see cref="RegistrationJudge"/>)
/// in the holder that registered it, its target described, what is ready probed, its diagnoses drawn. Everything is
/// read relative to each holder's /proc directory, opened once for the read.
/// </summary>
internal sealed class InstanceRead
{
    private readonly InterestListReader _reader;
    private readonly InstanceHolder _owner;
    private readonly ParsedFdInfo _info;
    private readonly FdDirectories _directories;
    private readonly ExpandOptions _options;
    private readonly RegistrationJudge _judge;
    private readonly StaleRegistrationSearch _staleSearch;
    private readonly Dictionary<int, ulong?> _identities;
    private readonly OtherHolders _others;
    private readonly IReadOnlyList<InstanceHolder> _instance;
    private readonly ItemList<string> _holders;
    private readonly long _readAt;
    private readonly bool _fromTables;
    private Dictionary<int, FdTable>? _registeredOnly;
    private bool _ownerGone;
    private ItemList<int>? _waiting;

    public InstanceRead(InterestListReader reader, IReadOnlyList<InstanceHolder> instance, InstanceHolder owner, ParsedFdInfo info, FdDirectories directories, ExpandOptions options)
    {
        _reader = reader;
        _instance = instance;
        _owner = owner;
        _info = info;
        _directories = directories;
        _options = options;

        // Tables used to judge these lines are listed after this point: one listed earlier (by the search for epoll
        // fds) would lack an fd opened and registered since, and call that registration closed.
        _readAt = Stopwatch.GetTimestamp();
        _holders = instance.Select(r => $"{r.Pid}:{r.Fd}").ToArray(); // one list for every row of the instance
        _identities = instance.GroupBy(r => r.Pid).ToDictionary(g => g.Key, g => g.First().Identity);
        _others = new OtherHolders(instance.Select(r => r.Pid).Where(p => p != owner.Pid).Distinct(),
            pids => { if (_registeredOnly is null) { reader.Tables.Load(pids, _readAt); } }, pid => SafeTable(pid, TableOf));
        _judge = new RegistrationJudge(owner, info, new RegistrationFileAccess(StatusOf, RegistrationFileAccess.KernelIsRegisteredFile));
        _staleSearch = new StaleRegistrationSearch(_judge, instance.Select(r => r.Pid).Distinct().ToArray(),
            since => SafeTable(owner.Pid, pid => reader.Tables.Get(pid, since)), ReadListAgain, _readAt);
        _fromTables = _others.Any && info.EpollTargets.Count > InterestListReader.TableLookupThreshold;
        // Naming each unix socket's peer may list every process's fds: past this size, only from tables listed anyway.
        reader.Resolver.SearchHostForPeers = info.EpollTargets.Count <= InterestListReader.TableLookupThreshold;
        if (_fromTables && !options.NoResolve)
        {
            PrefetchTables();
        }
    }

    /// <summary>The rows, in the order of the registered numbers; they end early if the holder exits while read (said in a verbose line).</summary>
    public IEnumerable<EpollInterest> Rows()
    {
        foreach (var line in _info.EpollTargets.OrderBy(t => t.Tfd).ThenBy(t => t.Offset))
        {
            if (_options.Only is { } only)
            {
                if (!only.Matches(_owner, line))
                {
                    continue;
                }

                // Read once per instance, and only for an instance that has a registration asked for.
                _waiting ??= EpollWaiters.ThreadsWaitingOn(_instance);
            }

            var row = ReadLine(line, out bool ownerExited);
            if (ownerExited)
            {
                _reader.Verbose(InterestListReader.ExitedWhileRead(_owner));
                yield break;
            }

            yield return row!;
        }
    }

    /// <summary>
    /// Every holder's table is wanted, listed on every core at once. A pipe needs whole tables (the search for its
    /// other ends shares them); with none registered, only the registered fd numbers are read (for socket pairs, half
    /// the links).
    /// </summary>
    private void PrefetchTables()
    {
        var pids = _instance.Select(r => r.Pid);
        if (_info.EpollTargets.Any(line => PseudoFilesystems.IsOn(line, PseudoFilesystems.SockFs)))
        {
            _reader.Resolver.PrefetchSockets(_owner.Pid);
        }

        if (_info.EpollTargets.Any(line => PseudoFilesystems.IsOn(line, PseudoFilesystems.PipeFs)))
        {
            _reader.Tables.Load(pids, _readAt);
        }
        else
        {
            _registeredOnly = FdTables.ListOnly(pids, _info.EpollTargets.Select(line => line.Tfd).ToHashSet());
        }
    }

    private EpollInterest? ReadLine(EpollTargetLine line, out bool ownerExited)
    {
        ownerExited = false;
        RegistrationVerdict verdict;
        int? stillOpenAs = null;
        (TargetKind Kind, string Description) target;
        EpollEvents? ready = null;
        if (_options.NoResolve)
        {
            // Nothing read per registration: what fdinfo says, as ss -n and lsof -n show numbers only.
            verdict = new RegistrationVerdict(_owner.Pid, null, RegistrationState.NotChecked, null);
            target = (TargetKind.Unknown, $"ino {line.Ino:x}, device {line.Device}");
        }
        else
        {
            string? current = LinkOf(_owner.Pid, line.Tfd);
            verdict = _judge.Judge(_owner.Pid, line, current);
            if (verdict.State != RegistrationState.Current && _others.Any)
            {
                var candidates = line.Ino is ulong ino && _others.FindByInode(line.Tfd, ino) is int likely ? _others.Pids.Prepend(likely).Distinct() : _others.Pids;
                verdict = _judge.JudgeInOtherHolders(line, candidates, verdict, LinkOf);
            }

            // A missing fd is a closed registration only while the owner lives and is not exiting: an exiting
            // process closes every fd (PF_EXITING is set before), and one that is gone reads as none. Asked after
            // the link was read (a process not exiting then was not exiting when it was read), and only for a
            // line no holder has: in a shared instance most lines are other holders' fds.
            if (current is null && verdict.State == RegistrationState.Stale && (_ownerGone || _directories.HasExited(_owner.Pid)))
            {
                ownerExited = true; // not a stale registration: the whole process went away while it was being read
                return null;
            }

            if (verdict.State == RegistrationState.Stale)
            {
                (target, stillOpenAs, verdict) = DescribeStale(line, verdict);
            }
            else if (verdict.State == RegistrationState.Unknown && _judge.Exact && _directories.HasExited(_owner.Pid))
            {
                // kcmp fails on a process whose fds are going: not a registration it could not tell. (Past the
                // exact-check limit kcmp is not asked, and Unknown is by design: nothing to check per row.)
                ownerExited = true;
                return null;
            }
            else
            {
                target = _reader.Resolver.Resolve(verdict.Pid, line.Tfd, verdict.Link, _directories);
                if (verdict.State == RegistrationState.Current && FdEntry.ParseLink(verdict.Link!) is null
                    && !_judge.StillTheRegisteredFile(verdict, line, _directories.ReadLink(verdict.Pid, line.Tfd)))
                {
                    // An anonymous inode or a file with a path was judged (kcmp, statx) and described (its fdinfo,
                    // statx) in reads after its link: if the number shows another link now, the file described
                    // may not be the one judged. (A socket or pipe is judged and described by the inode its link
                    // names.) A process that is exiting closes them all: not a change of its registrations.
                    if (verdict.Pid == _owner.Pid && _directories.HasExited(_owner.Pid))
                    {
                        ownerExited = true;
                        return null;
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

            if (_options.Readiness is { } readiness && (verdict.State == RegistrationState.Current || stillOpenAs is not null))
            {
                // The copy is checked to be the registered file (the fd may have changed since it was judged).
                var (pid, fd) = verdict.State == RegistrationState.Current ? (verdict.Pid, line.Tfd) : (_owner.Pid, stillOpenAs!.Value);
                ready = readiness.Probe(pid, fd, copy => _judge.Exact
                    ? RegistrationFileAccess.KernelIsRegisteredFile(Environment.ProcessId, copy, _owner, line) == true
                    : line.Ino is ulong ino && FileIdentity.StatFd(Environment.ProcessId, copy)?.Ino == ino);
            }
        }

        // kcmp, pidfd_open and a stale line's search for its holder name the process by its pid: they were about the
        // process read here only if it still exists now (a pid is not reused while its process lives, even as a zombie).
        bool askedByPid = !_options.NoResolve && (_options.Readiness is not null
            || (_judge.Exact && (line.Ino == _info.Ino || verdict.State == RegistrationState.Stale)));
        if (askedByPid && !_directories.IsAlive(_owner.Pid))
        {
            ownerExited = true;
            return null;
        }

        return BuildRow(line, verdict, target, stillOpenAs, ready);
    }

    /// <summary>A stale registration's target: the fd that still has its file, described; or why it is none, proven or not.</summary>
    private ((TargetKind, string), int?, RegistrationVerdict) DescribeStale(EpollTargetLine line, RegistrationVerdict verdict)
    {
        int? stillOpenAs = null;
        if (_judge.Exact)
        {
            (stillOpenAs, bool proven) = _staleSearch.Search(line);
            if (!proven)
            {
                verdict = verdict with { State = RegistrationState.Unknown };
            }
        }

        var described = stillOpenAs is int holder ? DescribeHolder(line, holder) : null;
        bool moved = stillOpenAs is not null && described is null;
        if (moved)
        {
            _reader.Verbose($"Process {_owner.Pid} epoll fd {_owner.Fd}: the file registered as fd {line.Tfd} moved away from fd {stillOpenAs} while it was read; its target is reported Unknown.");
            stillOpenAs = null;
            verdict = verdict with { State = RegistrationState.Unknown };
        }

        string file = $"(ino {line.Ino:x}, device {line.Device})";
        var target = described
            ?? (moved ? (TargetKind.Unknown, $"unproven: the registered file {file} moved to another fd while it was read")
                : verdict.State == RegistrationState.Unknown ? (TargetKind.Unknown, $"unproven: the registered file {file} was under no fd found while the process changed its interest list")
                : (TargetKind.Unknown, $"registered file not open in {(_others.Any ? "these processes" : "this process")} {file}"));
        return (target, stillOpenAs, verdict);
    }

    /// <summary>
    /// Describes the registered file from <paramref name="holder"/>, the fd of the owner that kcmp found holding it.
    /// The fd list the holder was found in is a snapshot: the process may have closed and reopened that number since.
    /// So the link is read now, the target resolved from it, and kcmp asked again afterwards: only if the holder is
    /// still the registered file is the description returned; else null, and the caller reports the target Unknown.
    /// </summary>
    private (TargetKind Kind, string Description)? DescribeHolder(EpollTargetLine line, int holder)
    {
        string? link = FdFiles.ReadLink(_owner.Pid, holder);
        if (link is null)
        {
            return null;
        }

        var described = _reader.Resolver.Resolve(_owner.Pid, holder, link);
        // kcmp names the registration by its tfd and its index among the lines with that tfd, and both can shift
        // while the process changes its interest list: the link must also still be the one just described.
        return _judge.HoldsRegisteredFile(holder, line) && FdFiles.ReadLink(_owner.Pid, holder) == link ? described : null;
    }

    private EpollInterest BuildRow(EpollTargetLine line, RegistrationVerdict verdict, (TargetKind Kind, string Description) target, int? stillOpenAs, EpollEvents? ready)
    {
        var interest = new EpollInterest
        {
            ProcessId = _owner.Pid,
            ProcessName = _owner.ProcessName,
            EpollFd = _owner.Fd,
            EpollInode = _info.Ino,
            Holders = _holders,
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
            && _reader.HoldOf(verdict.Pid).DiagnoseReady(verdict.Pid, line.Tfd, EpollEventsText.ToShortString(readyNow & line.Events & EpollEventGroups.Input)) is Diagnosis held)
        {
            // Data left unread by a process that cannot run is not a fault in its reads.
            diagnoses[unread] = held;
        }

        interest.Diagnoses = _options.SharedTargets?.For(interest) is Diagnosis mix ? diagnoses.Append(mix).ToArray() : diagnoses;
        interest.WaitingThreadIds = _waiting;
        return interest;
    }

    private FdTable TableOf(int pid)
    {
        var table = _registeredOnly is not null && _registeredOnly.TryGetValue(pid, out var listed) ? listed : _reader.Tables.Get(pid, _readAt);
        // Listed by pid: a table of a process that took the pid since is none of this instance's.
        return _identities.TryGetValue(pid, out var identity) && identity is not null && table.Identity != identity ? throw new ProcessGoneException(pid) : table;
    }

    private FileStatus? StatusOf(int pid, int fd) => _directories.Of(pid, _identities.GetValueOrDefault(pid))?.Status(fd);

    private string? LinkOf(int pid, int fd)
    {
        if (!_fromTables)
        {
            return _directories.Of(pid, _identities.GetValueOrDefault(pid))?.ReadLink(fd);
        }

        try
        {
            return TableOf(pid).Link(fd);
        }
        catch (ProcessGoneException)
        {
            _ownerGone |= pid == _owner.Pid;
            return null; // as a readlink of a process that is gone: the caller tells a closed fd from an exit
        }
    }

    /// <summary>The owner's interest list read again; null if it cannot be.</summary>
    private ParsedFdInfo? ReadListAgain()
    {
        try
        {
            return _directories.Of(_owner.Pid, _owner.Identity)?.ParseFdInfo(_owner.Fd);
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
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
            _reader.Verbose($"Process {pid}: its fds could not be listed again ({e.Message}).");
            return FdTable.Empty(pid);
        }
    }
}
