using System;
using System.Collections.Generic;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Interest;

/// <summary>
/// What the registration judge asks of the files of processes, as delegates: the kernel's answers in a scan
/// (<see cref="OfKernel"/>, or a scan's pinned /proc directories), captured answers in unit tests.
/// </summary>
/// <param name="Status">statx of a process's fd (its link followed); null when it cannot be read.</param>
/// <param name="IsRegisteredFile">kcmp(KCMP_EPOLL_TFD): whether fd (second argument) of process (first) is the file of
/// the registration (the line) in the instance (the holder); null when kcmp cannot tell.</param>
public sealed record RegistrationFileAccess(
    Func<int, int, FileStatus?> Status,
    Func<int, int, InstanceHolder, EpollTargetLine, bool?> IsRegisteredFile)
{
    /// <summary>kcmp asked by pid, as every caller does (a pidfd cannot name the process to kcmp).</summary>
    public static bool? KernelIsRegisteredFile(int pid, int fd, InstanceHolder instance, EpollTargetLine line)
        => FileIdentity.SameEpollTarget(pid, fd, instance.Pid, instance.Fd, line.Tfd, line.Offset);

    /// <summary>The kernel's answers, each read by pid.</summary>
    public static RegistrationFileAccess OfKernel { get; } = new((pid, fd) => FileIdentity.StatFd(pid, fd), KernelIsRegisteredFile);
}

/// <summary>How one holder sees a registration: its link for the registered number, and whether that is the registered file.</summary>
public readonly record struct RegistrationVerdict(int Pid, string? Link, RegistrationState State, string? Reason);

/// <summary>
/// The one place that decides whether a registration's number still holds the registered file ("is this tfd still the
/// file registered?"): for Get-EpollInterest's rows, Get-MultiplexerWait's "all registrations stale" and the targets
/// Trace-EpollInterest names. A closed fd, or an inode and device that differ, answer at once. When they match, the
/// file is the same unless it is an anonymous inode (eventfd, timerfd, epoll... all share one inode): then kcmp says
/// exactly, while the instance is small enough (<see cref="ExactCheckLimit"/>). The inode is read from the link where
/// the link shows it ("socket:[123]", "pipe:[123]") or, for anonymous inodes, is the epoll fd's own (they share it);
/// statx only for files with a path. It reads nothing itself: every answer comes through <see cref="RegistrationFileAccess"/>.
/// </summary>
public sealed class RegistrationJudge
{
    /// <summary>
    /// kcmp(KCMP_EPOLL_TFD) finds the registration by walking the instance's tree from the start (ep_find_tfd in
    /// fs/eventpoll.c), so checking every line of a large instance costs O(n^2) in the kernel. Lines whose inode and
    /// device already answer are never sent to kcmp; the rest only while the instance is at most this large.
    /// </summary>
    public const int ExactCheckLimit = 4096;

    private readonly InstanceHolder _instance;
    private readonly ulong? _anonymousInode;
    private readonly RegistrationFileAccess _files;

    /// <param name="instance">The holder whose fdinfo was read: kcmp names the registration through it.</param>
    /// <param name="instanceInfo">That fdinfo: its inode is the one anonymous files share, its size decides <see cref="Exact"/>.</param>
    /// <param name="files">Where the answers come from.</param>
    public RegistrationJudge(InstanceHolder instance, ParsedFdInfo instanceInfo, RegistrationFileAccess files)
    {
        _instance = instance;
        _anonymousInode = instanceInfo.Ino;
        _files = files;
        Exact = instanceInfo.EpollTargets.Count <= ExactCheckLimit;
    }

    /// <summary>Whether kcmp is asked: the instance is at most <see cref="ExactCheckLimit"/> registrations.</summary>
    public bool Exact { get; }

    /// <summary>Whether the registered file is an anonymous inode that every such file shares (so kcmp judged it, where it could).</summary>
    public bool IsOnSharedAnonymousInode(EpollTargetLine line) => line.Ino is ulong ino && ino == _anonymousInode;

    /// <summary>Whether <paramref name="link"/>, fd tfd of <paramref name="pid"/>, is the registered file.</summary>
    public RegistrationVerdict Judge(int pid, EpollTargetLine line, string? link)
    {
        var (state, reason) = Classify(pid, line, link);
        return new RegistrationVerdict(pid, link, state, reason);
    }

    private (RegistrationState, string?) Classify(int pid, EpollTargetLine line, string? link)
    {
        if (link is null)
        {
            return (RegistrationState.Stale, $"fd {line.Tfd} is closed");
        }

        // Both on the one shared anonymous inode: inode and device cannot tell them apart. (Some anon_inode: files,
        // such as pidfds on newer kernels, have inodes of their own: statx compares those.)
        bool shared = IsOnSharedAnonymousInode(line) && link.StartsWith("anon_inode:", StringComparison.Ordinal);
        bool? sameInode = shared || line.Ino is not ulong ino ? null
            : FdEntry.ParseLink(link) is { } linked ? ino == linked.Inode
            : SameInodeByStat(_files.Status(pid, line.Tfd), line, ino);
        if (sameInode == false)
        {
            return (RegistrationState.Stale, $"fd {line.Tfd} now refers to another file ({link})");
        }

        if (sameInode == true)
        {
            return (RegistrationState.Current, null);
        }

        if (!Exact)
        {
            return (RegistrationState.Unknown, null);
        }

        return _files.IsRegisteredFile(pid, line.Tfd, _instance, line) switch
        {
            true => (RegistrationState.Current, null),
            false => (RegistrationState.Stale, $"fd {line.Tfd} now refers to another file ({link})"),
            _ => (RegistrationState.Unknown, null),
        };
    }

    /// <summary>
    /// A registration that is not the first holder's file, judged in the other holders of a shared instance: the first
    /// where it is current wins, else the first where it cannot be told, else <paramref name="firstVerdict"/> stands.
    /// A holder this caller may not look into cannot vouch for it.
    /// </summary>
    /// <param name="candidates">The other holders, the likeliest first.</param>
    /// <param name="linkOf">The link of a holder's fd; null when closed. May throw <see cref="ProcessAccessDeniedException"/>.</param>
    public RegistrationVerdict JudgeInOtherHolders(EpollTargetLine line, IEnumerable<int> candidates, RegistrationVerdict firstVerdict, Func<int, int, string?> linkOf)
    {
        RegistrationVerdict? unknown = firstVerdict.State == RegistrationState.Unknown ? firstVerdict : null;
        foreach (int pid in candidates)
        {
            string? link;
            try
            {
                link = linkOf(pid, line.Tfd);
            }
            catch (ProcessAccessDeniedException)
            {
                continue;
            }

            if (link is null)
            {
                continue;
            }

            var verdict = Judge(pid, line, link);
            if (verdict.State == RegistrationState.Current)
            {
                return verdict;
            }

            unknown ??= verdict.State == RegistrationState.Unknown ? verdict : null;
        }

        return unknown ?? firstVerdict;
    }

    /// <summary>
    /// The fd of the instance's holder that still has a stale registration's file, found with kcmp among fds of the
    /// same inode, among <paramref name="fds"/> (the holder's table). The registered number itself is asked only with <paramref name="includingTfd"/>: it was judged not
    /// to be the file just before, so a kcmp saying otherwise met a registration made since.
    /// </summary>
    public int? FindHolder(EpollTargetLine line, ReadOnlySpan<FdEntry> fds, bool includingTfd = false)
    {
        foreach (var entry in fds)
        {
            int fd = entry.Fd;
            if (fd == line.Tfd && !includingTfd)
            {
                continue;
            }

            if (line.Ino is ulong ino && _files.Status(_instance.Pid, fd) is { } status && status.Ino != ino)
            {
                continue;
            }

            if (_files.IsRegisteredFile(_instance.Pid, fd, _instance, line) == true)
            {
                return fd;
            }
        }

        return null;
    }

    /// <summary>Whether kcmp says fd <paramref name="fd"/> of the instance's holder is the registered file now.</summary>
    public bool HoldsRegisteredFile(int fd, EpollTargetLine line) => _files.IsRegisteredFile(_instance.Pid, fd, _instance, line) == true;

    /// <summary>
    /// Whether a current registration's number is still the file it was judged and described as: the same link now
    /// (<paramref name="linkNow"/>) and, where kcmp judged it (an anonymous inode, whose inode every such file shares),
    /// kcmp saying so again after that link: the description, made between the two judgements, was of the registered file.
    /// </summary>
    public bool StillTheRegisteredFile(RegistrationVerdict verdict, EpollTargetLine line, string? linkNow)
    {
        if (linkNow != verdict.Link)
        {
            return false;
        }

        bool judgedByKcmp = Exact && IsOnSharedAnonymousInode(line);
        return !judgedByKcmp || _files.IsRegisteredFile(verdict.Pid, line.Tfd, _instance, line) == true;
    }

    /// <summary>
    /// How many registrations the instance has when every one is stale as its holder sees it (its number closed, or
    /// another file there); null when one is current or cannot be told, or when the list is empty. Stops at the first
    /// that is not stale, so a healthy instance costs a link or two.
    /// </summary>
    /// <param name="linkOf">The link of the holder's fd; null when closed. Throws <see cref="ProcessUnreadableException"/> when the process cannot be read.</param>
    public int? CountIfAllStale(IReadOnlyList<EpollTargetLine> lines, Func<int, string?> linkOf)
    {
        foreach (var line in lines)
        {
            string? link;
            try
            {
                link = linkOf(line.Tfd);
            }
            catch (ProcessUnreadableException)
            {
                return null;
            }

            if (Judge(_instance.Pid, line, link).State != RegistrationState.Stale)
            {
                return null;
            }
        }

        return lines.Count > 0 ? lines.Count : null;
    }

    /// <summary>
    /// <see cref="CountIfAllStale(IReadOnlyList{EpollTargetLine}, Func{int, string?})"/> for epoll fd
    /// <paramref name="epollFd"/> of <paramref name="pid"/>, whose interest list is <paramref name="info"/>, with the
    /// links read from /proc now; null for a process that is exiting (it closes every fd: not a wait on stale registrations).
    /// </summary>
    public static int? CountIfAllStale(int pid, int epollFd, ParsedFdInfo info)
    {
        var judge = new RegistrationJudge(new InstanceHolder(pid, string.Empty, epollFd), info, RegistrationFileAccess.OfKernel);
        return judge.CountIfAllStale(info.EpollTargets, tfd => FdFiles.ReadLink(pid, tfd)) is int stale && !ProcessCondition.HasExited(pid) ? stale : null;
    }

    private static bool? SameInodeByStat(FileStatus? fdStatus, EpollTargetLine line, ulong ino)
    {
        if (fdStatus is not FileStatus status || line.KernelDevice is not uint dev)
        {
            return null;
        }

        return status.Ino == ino && status.DevMajor == DeviceNumbers.KernelMajor(dev) && status.DevMinor == DeviceNumbers.KernelMinor(dev);
    }
}
