using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>A registration as fdinfo showed it at one moment, with what its fd was then and its instance's identity.</summary>
/// <param name="Instance">The same number for the epoll fds (of one process or several) that are one instance.</param>
/// <param name="Anonymous">
/// The file is on anon_inodefs (an eventfd, a timerfd...): its inode is shared by every such file, so only kcmp
/// on its fd (<paramref name="Open"/>) tells whether two registrations are of one file.
/// </param>
/// <param name="Open">Its fd is open now and is the registered file, as far as its link tells.</param>
public sealed record KnownRegistration(int Pid, int EpollFd, int Instance, int Fd, EpollEvents Events, ulong Data, ulong? Inode, string? Device, string Target,
    bool Anonymous = false, bool Open = true);

/// <summary>The registrations of every epoll instance of some processes, read now.</summary>
public static class RegistrationSnapshot
{
    private const string EventPollLink = "anon_inode:[eventpoll]";

    /// <summary>Processes gone or unreadable give none; so does an instance closed meanwhile.</summary>
    public static List<KnownRegistration> Read(IEnumerable<int> pids)
    {
        var resolver = new TargetResolver();
        var holders = new List<InstanceHolder>();
        var lines = new Dictionary<InstanceHolder, (Parsing.ParsedFdInfo Info, Dictionary<int, string> Links)>();
        foreach (int pid in pids)
        {
            try
            {
                var fds = FdFiles.List(pid);
                var links = fds.ToDictionary(f => f.Fd, f => f.Target);
                foreach (var (fd, link) in fds)
                {
                    if (link == EventPollLink && FdFiles.ParseInfo(pid, fd) is { } info)
                    {
                        var holder = new InstanceHolder(pid, string.Empty, fd);
                        holders.Add(holder);
                        lines[holder] = (info, links);
                    }
                }
            }
            catch (ProcessUnreadableException)
            {
                // gone or not readable: its registrations are not known, and its deliveries say so
            }
        }

        var known = new List<KnownRegistration>();
        int instance = 0;
        foreach (var group in InstanceFinder.GroupSharedInstances(holders))
        {
            instance++;
            foreach (var holder in group)
            {
                var (info, links) = lines[holder];
                var judge = new RegistrationJudge(holder, info, RegistrationFileAccess.OfKernel);
                foreach (var line in info.EpollTargets)
                {
                    var (target, open) = Describe(resolver, judge, holder.Pid, line, links);
                    known.Add(new KnownRegistration(holder.Pid, holder.Fd, instance, line.Tfd, line.Events, line.Data, line.Ino, line.Device, target,
                        PseudoFilesystems.IsOn(line, PseudoFilesystems.AnonInodeFs), open));
                }
            }
        }

        return known;
    }

    /// <summary>What the registered fd is, or that the registration is stale (judged as Get-EpollInterest judges it).</summary>
    private static (string Target, bool Open) Describe(TargetResolver resolver, RegistrationJudge judge, int pid, Parsing.EpollTargetLine line, Dictionary<int, string> links)
    {
        string? link = links.TryGetValue(line.Tfd, out var linked) ? linked : null;
        if (judge.Judge(pid, line, link).State == RegistrationState.Stale)
        {
            return (link is null
                ? $"(fd {line.Tfd} closed: the registration stays while another fd holds the file)"
                : $"(fd {line.Tfd} closed and taken by another file: the registration is stale)", false);
        }

        return (resolver.Resolve(pid, line.Tfd, link).Description, true);
    }
}
