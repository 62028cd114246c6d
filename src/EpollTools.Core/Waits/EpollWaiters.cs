using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using EpollTools.Core.Interest;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Waits;

/// <summary>A thread blocked in an epoll wait on an instance, as one look saw it.</summary>
public sealed record EpollWaiterSnapshot(int Pid, int Tid, string Syscall, string? RunStamp);

/// <summary>
/// The threads blocked in an epoll wait, read from their syscall files alone (nothing decoded from memory): what both
/// scans ask of waits, Get-EpollInterest for the threads waiting on an instance it lists, Get-MultiplexerWait and
/// Trace-EpollInterest for theirs.
/// </summary>
public static class EpollWaiters
{
    /// <summary>
    /// The threads of <paramref name="holders"/>' processes blocked in an epoll wait on this instance now: on a
    /// holder's fd, or on another fd of the same process that kcmp says is the same file (a dup).
    /// </summary>
    public static int[] ThreadsWaitingOn(IReadOnlyList<InstanceHolder> holders)
    {
        var waiting = new List<int>();
        foreach (var process in holders.GroupBy(h => h.Pid))
        {
            var fds = process.Select(h => h.Fd).ToHashSet();
            foreach (var wait in EpollWaitsOf(process.Key))
            {
                if (fds.Contains(wait.EpollFd) || fds.Any(fd => FileIdentity.SameFile(process.Key, wait.EpollFd, process.Key, fd) == true))
                {
                    waiting.Add(wait.Tid);
                }
            }
        }

        return waiting.ToArray();
    }

    /// <summary>
    /// The threads of <paramref name="pid"/> blocked in epoll_wait, epoll_pwait or epoll_pwait2 now, with the epoll fd
    /// each waits on: one read of each thread's syscall file, nothing decoded from memory, and of the state of those
    /// in an epoll call: a thread that is stopped, traced, frozen or exiting is not waiting and is left out. A process
    /// that is gone or unreadable gives none.
    /// </summary>
    public static List<(int Tid, int EpollFd, MultiplexerSyscall Call)> EpollWaitsOf(int pid)
        => MultiplexerWaitsOf(pid).Where(w => w.EpollFd is not null).Select(w => (w.Tid, w.EpollFd!.Value, w.Call)).ToList();

    /// <summary>
    /// The threads of <paramref name="pid"/> whose syscall file shows epoll_wait, epoll_pwait or epoll_pwait2 now,
    /// held ones included, with that line as read and the epoll fd it names. A process that is gone or whose threads
    /// cannot be listed gives none; a syscall file this caller may not
    /// read (it needs ptrace attach access) throws <see cref="ProcessAccessDeniedException"/>.
    /// </summary>
    internal static IEnumerable<(int Tid, string Syscall, int EpollFd, MultiplexerSyscall Call)> ThreadsInEpollWaits(int pid)
    {
        foreach (var (tid, text, firstArgument, call) in ThreadsInMultiplexerWaits(pid))
        {
            if (MultiplexerCallDecoder.IsEpoll(call.Call))
            {
                yield return (tid, text, (int)firstArgument, call);
            }
        }
    }

    /// <summary>
    /// The threads of <paramref name="pid"/> in any multiplexing wait now (epoll, poll, ppoll, select, pselect6), each
    /// with its call and, for an epoll wait, its epoll fd, as <see cref="EpollWaitsOf"/> reads them.
    /// </summary>
    public static List<(int Tid, int? EpollFd, MultiplexerSyscall Call)> MultiplexerWaitsOf(int pid)
        => MultiplexerWaitsWithCondition(pid).Where(w => w.Condition.CanBeWoken).Select(w => (w.Tid, w.EpollFd, w.Call)).ToList();

    /// <summary>
    /// The threads of <paramref name="pid"/> whose syscall file shows a multiplexing wait now, held ones too (stopped,
    /// traced, frozen, exiting: their syscall file still shows the wait they left), each with its condition.
    /// </summary>
    public static List<(int Tid, int? EpollFd, MultiplexerSyscall Call, ThreadCondition Condition)> MultiplexerWaitsWithCondition(int pid)
    {
        var waits = new List<(int, int?, MultiplexerSyscall, ThreadCondition)>();
        foreach (var (tid, _, firstArgument, call) in ThreadsInMultiplexerWaits(pid))
        {
            if (ThreadCondition.Read(pid, tid) is { } condition)
            {
                waits.Add((tid, MultiplexerCallDecoder.IsEpoll(call.Call) ? (int)firstArgument : null, call, condition));
            }
        }

        return waits;
    }

    private static IEnumerable<(int Tid, string Syscall, ulong FirstArgument, MultiplexerSyscall Call)> ThreadsInMultiplexerWaits(int pid)
    {
        SyscallAbi abi;
        List<int> threads;
        try
        {
            abi = SyscallAbis.OfProcess(pid) ?? SyscallAbis.OfMachine(RuntimeInformation.OSArchitecture);
            threads = TaskFiles.ListThreads(pid);
        }
        catch (ProcessUnreadableException)
        {
            yield break;
        }

        foreach (int tid in threads)
        {
            string? text = TaskFiles.Read(pid, tid, "syscall");
            if (text is not null && TaskParser.ParseSyscall(text) is { Activity: SyscallActivity.InSyscall, Arguments.Length: > 0 } syscall
                && MultiplexerCallDecoder.Identify(abi, syscall.Number) is MultiplexerSyscall call)
            {
                yield return (tid, text, syscall.Arguments[0], call);
            }
        }
    }

    /// <summary>
    /// The threads of <paramref name="holders"/>' processes in an epoll wait on one of the holders' fds for this
    /// instance now, held ones too (a stopped thread still shows its wait), each with its syscall line and schedstat.
    /// </summary>
    public static List<EpollWaiterSnapshot> Snapshot(IReadOnlyList<InstanceHolder> holders)
    {
        var waiters = new List<EpollWaiterSnapshot>();
        foreach (var process in holders.GroupBy(h => h.Pid))
        {
            var fds = process.Select(h => h.Fd).ToHashSet();
            try
            {
                foreach (var (tid, syscall, epollFd, _) in ThreadsInEpollWaits(process.Key))
                {
                    if (fds.Contains(epollFd))
                    {
                        // Read after the call: a thread that has not run since was in that call when it was stamped.
                        waiters.Add(new EpollWaiterSnapshot(process.Key, tid, syscall, TaskFiles.Read(process.Key, tid, "schedstat")));
                    }
                }
            }
            catch (ProcessAccessDeniedException)
            {
                // Not allowed to see its threads' calls: nothing confirms a wait there.
            }
        }

        return waiters;
    }

    /// <summary>Whether one of <paramref name="waiters"/> is still in the same wait and has not run since (its schedstat unchanged).</summary>
    public static bool AnyStillWaiting(IEnumerable<EpollWaiterSnapshot> waiters)
        => waiters.Any(w => TaskFiles.Read(w.Pid, w.Tid, "syscall") == w.Syscall && TaskFiles.Read(w.Pid, w.Tid, "schedstat") == w.RunStamp);
}
