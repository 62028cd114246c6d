using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Chains;

/// <summary>Where a holder of the other end stands, from its threads as one read saw them.</summary>
public static class HolderStates
{
    /// <summary>
    /// A thread that runs makes the holder busy (it may yet make the fd ready); every thread held makes it stopped,
    /// traced or held; a thread blocked on fds continues the chain; else it sleeps on something else.
    /// </summary>
    /// <param name="blockedOnFds">Whether a thread is blocked on fds (see <see cref="BlockedOn"/>).</param>
    public static (ChainEnd End, string Detail) Judge(int pid, IReadOnlyList<MultiplexerWait> threads, Func<MultiplexerWait, bool> blockedOnFds)
    {
        if (threads.Count == 0)
        {
            return (ChainEnd.Gone, $"{pid} has no threads left (exiting)");
        }

        if (threads.FirstOrDefault(t => t.Hold == ThreadHold.None && t.State.StartsWith('R')) is { } running)
        {
            return (ChainEnd.Running, $"thread {running.ThreadId} ({running.ThreadName}) runs: busy, not stuck");
        }

        if (threads.All(t => t.Hold != ThreadHold.None))
        {
            var first = threads[0];
            return first.Hold switch
            {
                ThreadHold.Stopped => (ChainEnd.Stopped, "stopped by a signal (SIGSTOP, Ctrl+Z): nothing it holds moves until SIGCONT"),
                ThreadHold.Traced => (ChainEnd.Traced, $"in a tracing stop, held by {(first.TracerPid is int tracer ? $"{tracer} ({first.TracerName})" : "its tracer")}"),
                _ => (ChainEnd.Held, $"{first.Hold} ({first.State})"),
            };
        }

        var blocked = threads.Where(blockedOnFds).ToList();
        if (blocked.Count > 0)
        {
            return (ChainEnd.Continues, string.Join(", ", blocked.Select(t => $"{t.ThreadId} ({t.ThreadName}) in {t.Call}")));
        }

        var sleeper = threads.FirstOrDefault(t => t.Hold == ThreadHold.None) ?? threads[0];
        string channel = string.IsNullOrEmpty(sleeper.WaitChannel) ? string.Empty : $" ({sleeper.WaitChannel})";
        return (ChainEnd.BlockedElsewhere, $"waits in {sleeper.Call}{channel}, not on an fd");
    }
}
