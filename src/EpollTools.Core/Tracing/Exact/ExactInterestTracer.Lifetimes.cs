using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>What copies or ends instances and registrations: forks, exits, closes and dup2s.</summary>
public sealed partial class ExactInterestTracer
{
    /// <summary>
    /// A child process or a thread. A child holds copies of its parent's fds, so its epoll fds are the same instances:
    /// followed, it shares their registrations here as it does in the kernel (an epoll_ctl by either changes both).
    /// </summary>
    private IEnumerable<EpollInterestChange> Forked(EpollCallRecord r)
    {
        if (r.Thread)
        {
            yield return Change(r, InterestChangeKind.ThreadStarted, -1, $"thread {r.Child} started") with { ThreadId = r.Child };
            yield break;
        }

        var inherited = _instances.Where(i => i.Key.Pid == r.Pid).OrderBy(i => i.Key.EpollFd).ToList();
        if (_follow)
        {
            foreach (var ((_, epollFd), list) in inherited)
            {
                _instances[(r.Child, epollFd)] = list;
            }
        }

        string holds = inherited.Count switch
        {
            0 => "it holds no epoll fd of its parent",
            1 => $"it holds its parent's epoll fd {inherited[0].Key.EpollFd} (the same instance)",
            _ => $"it holds its parent's epoll fds {string.Join(", ", inherited.Select(i => i.Key.EpollFd))} (the same instances)",
        };
        yield return Change(r, InterestChangeKind.Forked, -1,
            $"child process {r.Child}: {holds}; {(_follow ? "traced from here on" : "not traced (-Follow traces children)")}") with { ThreadId = r.Tid };
    }

    /// <summary>A thread exited; the process's last takes its instances with it.</summary>
    private IEnumerable<EpollInterestChange> Exited(EpollCallRecord r)
    {
        if (!r.ProcessEnded)
        {
            yield return Change(r, InterestChangeKind.Exited, -1, $"thread {r.Tid} exited");
            yield break;
        }

        yield return Change(r, InterestChangeKind.Exited, -1, "the process exited");
        foreach (var (key, _) in _instances.Where(i => i.Key.Pid == r.Pid).OrderBy(i => i.Key.EpollFd).ToList())
        {
            _instances.Remove(key);
            if (Reported(key.EpollFd))
            {
                yield return Change(r, InterestChangeKind.InstanceClosed, key.EpollFd, "its process exited");
            }
        }
    }

    /// <summary>An fd of the process closed (or replaced by dup2): an instance's own fd, or a registered fd of an instance.</summary>
    private IEnumerable<EpollInterestChange> Closed(EpollCallRecord r, int fd, string how)
    {
        if (_instances.Remove((r.Pid, fd)) && Reported(fd))
        {
            yield return Change(r, InterestChangeKind.InstanceClosed, fd, $"epoll fd {how}");
        }

        foreach (var ((pid, epollFd), list) in _instances.Where(i => i.Key.Pid == r.Pid).ToList())
        {
            if (TracedRegistration.Current(list, fd) is not TracedRegistration registration)
            {
                continue;
            }

            // Whether the kernel removed it (the file's last fd) or it stays (another fd holds the file): fdinfo says,
            // while the process lives (a trace read behind its process may find it gone).
            bool? stays = TracedRegistration.Registered(pid, epollFd, fd, registration.Data);
            // A followed child shares its parent's instances: its fd closed, the parent's may still be the file.
            var sharers = _instances.Where(i => i.Key.Pid != pid && ReferenceEquals(i.Value, list)).Select(i => i.Key.Pid).Distinct().ToList();
            if (stays == true && sharers.Count == 0)
            {
                registration.Stale = true; // the number may be reused by another file: this one is no longer it
            }
            else if (stays != true)
            {
                list.Remove(registration);
            }

            if (Reported(epollFd))
            {
                yield return Change(r, InterestChangeKind.FdClosed, epollFd, stays switch
                {
                    true when sharers.Count > 0 => $"{how} in this process without DEL: still registered; the instance is shared with process {string.Join(", ", sharers)}, whose fd {fd} is its own",
                    true => $"{how} without DEL: still registered (stale), another fd holds the file",
                    false => $"{how} without DEL: the file's last fd, the kernel removed it",
                    null => $"{how} without DEL (the process exited before the trace could read whether it stayed)",
                }) with
                {
                    TargetFd = fd, OldEvents = registration.Events, OldData = registration.Data,
                };
            }
        }
    }
}
