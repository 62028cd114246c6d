using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Waits;

/// <summary>One thread an event can wake, blocked in an epoll wait on <paramref name="EpollFd"/> of its process.</summary>
public readonly record struct EpollWaiter(int Pid, int Tid, int EpollFd);

/// <summary>
/// Which epoll instances several threads wait on at once (<see cref="DiagnosisKind.SeveralWaiters"/>): within one
/// process from its own waits, and across processes (an instance shared after fork) from a survey of the others made
/// before the processes are read one by one, so that each process's waits can be written as soon as it is read.
/// </summary>
public sealed class SharedInstanceWaiters
{
    /// <summary>The waiters of each instance held by more than one process, as the survey found them.</summary>
    private readonly List<List<EpollWaiter>> _acrossProcesses = new();

    private SharedInstanceWaiters()
    {
    }

    /// <summary>Nothing surveyed: only the waits of one process are compared with each other.</summary>
    public static SharedInstanceWaiters None { get; } = new();

    /// <summary>
    /// The threads of <paramref name="pids"/> in epoll waits now (their syscall files alone, no memory read), grouped by
    /// instance with kcmp; only instances waited on from more than one process are kept. A process that cannot be read
    /// gives none.
    /// </summary>
    public static SharedInstanceWaiters Survey(IEnumerable<int> pids)
    {
        var waiters = pids.SelectMany(pid => EpollWaitsOf(pid).Select(w => new EpollWaiter(pid, w.Tid, w.EpollFd))).ToList();
        var survey = new SharedInstanceWaiters();
        foreach (var instance in Group(waiters))
        {
            if (instance.Select(w => w.Pid).Distinct().Count() > 1)
            {
                survey._acrossProcesses.Add(instance);
            }
        }

        return survey;
    }

    /// <summary>
    /// Adds <see cref="DiagnosisKind.SeveralWaiters"/> to each epoll wait of <paramref name="waits"/> (one process's,
    /// or several read together) that shares its instance with another of them (the same fd, a dup: kcmp tells) or
    /// with a waiter of another process the survey found on it. Only threads an event can wake count: a stopped or
    /// traced thread is not waiting.
    /// </summary>
    public void Diagnose(IReadOnlyList<MultiplexerWait> waits)
    {
        var epollWaits = waits.Where(w => w.EpollFd is not null && w.IsWaiting).ToList();
        var pids = epollWaits.Select(w => w.ProcessId).ToHashSet();
        foreach (var instance in Group(epollWaits.Select(w => new EpollWaiter(w.ProcessId, w.ThreadId, w.EpollFd!.Value)).ToList()))
        {
            // The survey's waiters of the same instance in the other processes (this one's own are as read now).
            var elsewhere = _acrossProcesses.FirstOrDefault(group => group.Any(s => instance.Any(w => w.Pid == s.Pid && w.EpollFd == s.EpollFd)));
            var all = instance.Concat(elsewhere?.Where(s => !pids.Contains(s.Pid)) ?? Enumerable.Empty<EpollWaiter>())
                .OrderBy(w => w.Pid).ThenBy(w => w.Tid).ToList();
            if (all.Count < 2)
            {
                continue;
            }

            string threads = string.Join(", ", all.Select(w => $"{w.Pid}/{w.Tid}"));
            var diagnosis = new Diagnosis
            {
                Kind = DiagnosisKind.SeveralWaiters,
                Summary = $"{all.Count} waiters share it",
                Explanation = $"Threads {threads} wait on one epoll instance. Each wake-up goes to one waiter, but a level-triggered registration that is still ready after it is fetched wakes the next waiter too, so one connection can wake several threads; EPOLLET or EPOLLONESHOT hands each event to one thread. One instance per thread, with the listening socket registered EXCLUSIVE in each, is the other design.",
            };
            foreach (var wait in epollWaits.Where(w => instance.Any(i => i.Pid == w.ProcessId && i.Tid == w.ThreadId)))
            {
                wait.Diagnoses = wait.Diagnoses.Append(diagnosis).ToArray();
            }
        }
    }

    private static List<(int Tid, int EpollFd, MultiplexerSyscall Call)> EpollWaitsOf(int pid)
    {
        try
        {
            return EpollWaiters.EpollWaitsOf(pid);
        }
        catch (ProcessUnreadableException)
        {
            return new(); // not this caller's to read (its own scan says so), or gone
        }
    }

    /// <summary>The waiters grouped by the instance they wait on (kcmp over their epoll fds).</summary>
    private static IEnumerable<List<EpollWaiter>> Group(List<EpollWaiter> waiters)
    {
        var fds = waiters.Select(w => new InstanceHolder(w.Pid, string.Empty, w.EpollFd)).Distinct().ToList();
        foreach (var instance in InstanceFinder.GroupSharedInstances(fds))
        {
            yield return waiters.Where(w => instance.Any(h => h.Pid == w.Pid && h.Fd == w.EpollFd)).ToList();
        }
    }
}
