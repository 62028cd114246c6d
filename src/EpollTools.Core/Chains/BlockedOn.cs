using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Interest;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Chains;

/// <summary>One fd a thread is blocked on, and what it waits for there.</summary>
/// <param name="Pid">The process whose fd table the number is in (an epoll registration's may be another holder's).</param>
/// <param name="Events">What the thread waits for on it (IN, OUT...).</param>
/// <param name="Ready">What is ready on it now, where that was read.</param>
/// <param name="EdgeTriggered">An epoll registration with EPOLLET: a readiness it took once does not wake it again.</param>
public sealed record BlockedFd(int Pid, int Fd, bool ForInput, EpollEvents Events, EpollEvents? Ready, bool EdgeTriggered = false)
{
    /// <summary>Whether the thread waits on this fd alone: nothing else can wake it (a plain blocking call, or a wait on one fd).</summary>
    public bool Alone { get; init; }
}

/// <summary>
/// The fds a thread is blocked on: the registrations of the instance an epoll wait waits on, the fds of a poll or a
/// select, or the one fd of a plain blocking call (read, recvmsg, accept4, write, sendto, connect...). A thread that is
/// held (stopped, traced) or running waits on nothing.
/// </summary>
public static class BlockedOn
{
    /// <summary>Calls that block until an fd has input (data, a connection, end of file).</summary>
    private static readonly HashSet<string> InputCalls = new() { "read", "readv", "recvfrom", "recvmsg", "recvmmsg", "accept", "accept4" };

    /// <summary>Calls that block until an fd has room for output, or a connection completes.</summary>
    private static readonly HashSet<string> OutputCalls = new() { "write", "writev", "sendto", "sendmsg", "sendmmsg", "connect" };

    private const EpollEvents Input = EpollEvents.In;
    private const EpollEvents Output = EpollEvents.Out;

    public static IReadOnlyList<BlockedFd> Read(MultiplexerWait thread, InterestListReader interest, ReadinessProbe probe)
    {
        var fds = ReadAll(thread, interest, probe).ToList();
        return fds.Count == 1 ? new[] { fds[0] with { Alone = true } } : fds;
    }

    private static IEnumerable<BlockedFd> ReadAll(MultiplexerWait thread, InterestListReader interest, ReadinessProbe probe)
    {
        if (thread.Hold != ThreadHold.None || !thread.State.StartsWith('S'))
        {
            return Enumerable.Empty<BlockedFd>();
        }

        int pid = thread.ProcessId;
        if (thread.EpollFd is int epollFd)
        {
            return EpollRegistrations(pid, thread.ProcessName, epollFd, interest, probe);
        }

        if (thread.IsMultiplexerWait)
        {
            var polled = thread.Fds.Select(f => (f.Fd, Events: (EpollEvents)f.EventsValue))
                .Concat(thread.ReadFds.Select(fd => (Fd: fd, Events: Input)))
                .Concat(thread.WriteFds.Select(fd => (Fd: fd, Events: Output)));
            return polled.Select(f => new BlockedFd(pid, f.Fd, (f.Events & Input) != 0, f.Events, probe.Probe(pid, f.Fd, _ => true)));
        }

        bool input = InputCalls.Contains(thread.Call);
        if ((input || OutputCalls.Contains(thread.Call)) && thread.Syscall?.Arguments is { Length: > 0 } arguments && arguments[0] <= int.MaxValue)
        {
            // Blocked in the call itself: the fd is not ready in the way the call needs, or the call would return.
            return new[] { new BlockedFd(pid, (int)arguments[0], input, input ? Input : Output, Ready: null) };
        }

        return Enumerable.Empty<BlockedFd>();
    }

    /// <summary>The live registrations of the instance (the current ones), each with what is ready on it now.</summary>
    private static IEnumerable<BlockedFd> EpollRegistrations(int pid, string name, int epollFd, InterestListReader interest, ReadinessProbe probe)
    {
        List<EpollInterest> rows;
        try
        {
            rows = interest.Read(new[] { new InstanceHolder(pid, name, epollFd) }, new ExpandOptions(Readiness: probe)).ToList();
        }
        catch (ProcFiles.ProcessUnreadableException)
        {
            yield break;
        }

        foreach (var row in rows.Where(r => r.State == RegistrationState.Current))
        {
            var wanted = row.Events & (EpollEventGroups.Input | Output);
            yield return new BlockedFd(row.TargetProcessId, row.TargetFd, (wanted & EpollEventGroups.Input) != 0 || wanted == 0, wanted == 0 ? Input : wanted,
                row.ReadyEvents, (row.Events & EpollEvents.ET) != 0);
        }
    }
}
