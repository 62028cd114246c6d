using EpollTools.Core.Native;

namespace EpollTools.Core.Proc;

/// <summary>
/// What holds a thread still other than its own wait: a thread blocked in epoll_wait, poll or select that is held is
/// not waiting for its fds, however its syscall file reads (the kernel keeps the interrupted call there).
/// </summary>
public enum ThreadHold
{
    /// <summary>Nothing: the thread runs, or sleeps where an event can wake it.</summary>
    None,

    /// <summary>State T: a stop signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) stopped the whole process.</summary>
    Stopped,

    /// <summary>State t: a ptrace tracer (a debugger) holds the thread in a tracing stop.</summary>
    Traced,

    /// <summary>Its cgroup is frozen (cgroup v1 freezer shows D, v2 traps it in do_freezer_trap).</summary>
    Frozen,

    /// <summary>State D for another reason: waiting on the kernel (I/O, a lock, a page fault), not on its fds.</summary>
    UninterruptibleSleep,

    /// <summary>The thread is exiting (PF_EXITING), a zombie (Z) or dead (X): its fds are closed or being closed.</summary>
    Exiting,
}
