using System;
using System.Collections.Generic;
using System.Linq;

namespace EpollTools.Core.Proc;

/// <summary>One epoll fd found in a process, with the fdinfo text read for it.</summary>
public sealed record EpollFdRecord(int Pid, string ProcessName, int Fd, string FdInfoText)
{
    /// <summary>The registration lines alone: equal for two fds of one shared instance.</summary>
    public string InterestSignature { get; } = string.Join('\n', FdInfoText.Split('\n').Where(l => l.StartsWith("tfd:", StringComparison.Ordinal)));
}

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

    private readonly Action<string> _verbose;

    public EpollInterestScanner(Action<string>? verbose = null)
    {
        _verbose = verbose ?? (_ => { });
    }

    public TargetResolver Resolver { get; } = new();

    /// <summary>
    /// The epoll fds of <paramref name="pid"/> (or just <paramref name="epollFd"/>), with their fdinfo.
    /// Throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/> for the process as a whole.
    /// </summary>
    public List<EpollFdRecord> FindInstances(int pid, int? epollFd = null)
    {
        string name = ProcFs.ReadComm(pid) ?? throw new ProcessGoneException(pid);
        var records = new List<EpollFdRecord>();

        // One epoll fd asked for: look at it alone, rather than reading the link of every fd of the process.
        var candidates = epollFd is int only
            ? new List<(int Fd, string Target)> { (only, ProcFs.ReadFdTarget(pid, only) ?? string.Empty) }
            : ProcFs.ListFds(pid);
        foreach (var (fd, target) in candidates)
        {
            if (target != EventPollTarget)
            {
                continue;
            }

            string? text = ProcFs.ReadFdInfo(pid, fd);
            if (text is null)
            {
                _verbose($"Process {pid}: epoll fd {fd} was closed while it was read; skipped.");
                continue;
            }

            records.Add(new EpollFdRecord(pid, name, fd, text));
        }

        return records;
    }

    /// <summary>
    /// Groups epoll fds that are one instance (shared after fork or fd passing): equal interest lists first, then
    /// kcmp(KCMP_FILE) to be sure. Groups come in the order of their first fd.
    /// </summary>
    public static List<List<EpollFdRecord>> GroupSharedInstances(IReadOnlyList<EpollFdRecord> records)
    {
        var groups = new List<List<EpollFdRecord>>();
        foreach (var bySignature in records.GroupBy(r => r.InterestSignature))
        {
            var pending = bySignature.ToList();
            while (pending.Count > 0)
            {
                var first = pending[0];
                var group = pending.Where(r => r == first || ProcFs.SameFile(first.Pid, first.Fd, r.Pid, r.Fd) == true).ToList();
                pending.RemoveAll(group.Contains);
                groups.Add(group);
            }
        }

        groups.Sort((a, b) => a[0].Pid != b[0].Pid ? a[0].Pid.CompareTo(b[0].Pid) : a[0].Fd.CompareTo(b[0].Fd));
        return groups;
    }

    /// <summary>The registrations of one instance, by target fd, resolved as the first holder sees them.</summary>
    public IEnumerable<EpollInterest> Expand(IReadOnlyList<EpollFdRecord> instance)
    {
        var owner = instance[0];
        var info = FdInfoParser.Parse(owner.FdInfoText);
        foreach (var error in info.Errors)
        {
            _verbose($"Process {owner.Pid} epoll fd {owner.Fd}: line {error.LineNumber} not understood ({error.Reason}): {error.Line}");
        }

        string[] holders = instance.Select(r => $"{r.Pid}:{r.Fd}").ToArray();
        List<(int Fd, string Target)>? ownerFds = null;
        foreach (var line in info.EpollTargets.OrderBy(t => t.Tfd).ThenBy(t => t.Offset))
        {
            string? current = ProcFs.ReadFdTarget(owner.Pid, line.Tfd);
            if (current is null && !ProcFs.ProcessExists(owner.Pid))
            {
                // Not a stale registration: the whole process went away while it was being read.
                _verbose($"Process {owner.Pid} exited while its epoll fd {owner.Fd} was being read; the rest of it is skipped.");
                yield break;
            }

            bool exact = info.EpollTargets.Count <= ExactCheckLimit;
            var (state, reason) = Classify(owner, line, current, exact, info.Ino);
            int? stillOpenAs = null;
            (TargetKind Kind, string Description) target;
            if (state == RegistrationState.Stale)
            {
                ownerFds ??= SafeListFds(owner.Pid);
                stillOpenAs = exact ? FindHolder(owner, line, ownerFds) : null;
                target = stillOpenAs is int holder
                    ? Resolver.Resolve(owner.Pid, holder, ownerFds.FirstOrDefault(f => f.Fd == holder).Target)
                    : (TargetKind.Unknown, $"registered file not open in this process (ino {line.Ino:x}, device {line.Device})");
            }
            else
            {
                target = Resolver.Resolve(owner.Pid, line.Tfd, current);
            }

            yield return new EpollInterest
            {
                ProcessId = owner.Pid,
                ProcessName = owner.ProcessName,
                EpollFd = owner.Fd,
                EpollInode = info.Ino,
                Holders = holders,
                TargetFd = line.Tfd,
                Events = line.Events,
                Data = line.Data,
                Pos = line.Pos,
                TargetInode = line.Ino,
                TargetDevice = line.Device,
                Offset = line.Offset,
                TargetKind = target.Kind,
                Target = target.Description,
                State = state,
                StaleReason = reason,
                StillOpenAs = stillOpenAs,
            };
        }
    }

    /// <summary>
    /// Is tfd still the registered file? A closed fd, or an inode and device that differ, answer at once. When they
    /// match, the file is the same unless it is an anonymous inode (eventfd, timerfd, epoll... all share one inode):
    /// then kcmp says exactly, if <paramref name="exact"/> allows it. The inode is read from the link where the link
    /// shows it ("socket:[123]", "pipe:[123]") or, for anonymous inodes, is the epoll fd's own (they share it);
    /// statx only for files with a path.
    /// </summary>
    private static (RegistrationState, string?) Classify(EpollFdRecord owner, EpollTargetLine line, string? current, bool exact, ulong? anonymousInode)
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
            : SameInodeByStat(owner.Pid, line, ino);
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

        return ProcFs.SameEpollTarget(owner.Pid, line.Tfd, owner.Pid, owner.Fd, line.Tfd, line.Offset) switch
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

    private static bool? SameInodeByStat(int pid, EpollTargetLine line, ulong ino)
    {
        if (ProcFs.StatFd(pid, line.Tfd) is not FileStatus status || line.KernelDevice is not uint dev)
        {
            return null;
        }

        return status.Ino == ino && status.DevMajor == DeviceNumbers.KernelMajor(dev) && status.DevMinor == DeviceNumbers.KernelMinor(dev);
    }

    /// <summary>The fd of the owner that still holds a stale registration's file, found with kcmp among fds of the same inode.</summary>
    private static int? FindHolder(EpollFdRecord owner, EpollTargetLine line, List<(int Fd, string Target)> fds)
    {
        foreach (var (fd, _) in fds)
        {
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

    private List<(int Fd, string Target)> SafeListFds(int pid)
    {
        try
        {
            return ProcFs.ListFds(pid);
        }
        catch (Exception e) when (e is ProcessGoneException or ProcessAccessDeniedException)
        {
            _verbose($"Process {pid}: its fds could not be listed again ({e.Message}).");
            return new List<(int, string)>();
        }
    }
}
