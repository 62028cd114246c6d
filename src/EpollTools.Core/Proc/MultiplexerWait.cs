using System;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.Proc;

/// <summary>The system call table a process calls through: its numbers and how its arguments are laid out.</summary>
public enum SyscallAbi
{
    /// <summary>A table the module does not decode (32-bit ARM, x32, another machine): calls are shown by number.</summary>
    Other,
    X64,
    Arm64,

    /// <summary>A 32-bit x86 program (on an x86-64 kernel): i386 numbers, 32-bit pointers, fd_set words and times.</summary>
    I386,
}

/// <summary>The blocking readiness calls Get-MultiplexerWait recognises.</summary>
public enum MultiplexerCall
{
    EpollWait,
    EpollPwait,
    EpollPwait2,
    Poll,
    Ppoll,
    Select,
    Pselect6,
}

/// <summary>One fd a poll or select call waits on, with the events asked for and what the fd is.</summary>
public sealed class WaitedFd
{
    public int Fd { get; init; }

    /// <summary>
    /// The events asked for, in poll's names (poll and epoll share them): for select, IN for the read set, OUT for the
    /// write set and PRI for the except set (the kernel's own mapping in fs/select.c).
    /// </summary>
    public string Events { get; init; } = string.Empty;

    /// <summary>The raw poll events mask (for select, the mask the sets map to).</summary>
    public int EventsValue { get; init; }

    public TargetKind TargetKind { get; init; }

    /// <summary>What the fd is, as Get-EpollInterest describes targets; "(closed)" for a number with no fd behind it.</summary>
    public string Target { get; init; } = string.Empty;

    public override string ToString() => $"{Fd} {Events} {Target}";
}

/// <summary>
/// A thread blocked in epoll_wait, epoll_pwait, epoll_pwait2, poll, ppoll, select or pselect6 (or, with
/// -IncludeAllThreads, any thread, with its system call number): read from /proc/&lt;pid&gt;/task/&lt;tid&gt;, arguments
/// decoded, and the arrays and timeouts they point to read from the process's memory. Plain properties only, so that
/// it survives serialization.
/// </summary>
public sealed class MultiplexerWait
{
    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int ThreadId { get; init; }

    public string ThreadName { get; init; } = string.Empty;

    /// <summary>
    /// The call by its kernel name ("epoll_wait"...), or for other threads "running", "not in a syscall", or
    /// "syscall &lt;number&gt;".
    /// </summary>
    public string Call { get; init; } = string.Empty;

    /// <summary>Whether <see cref="Call"/> is one of the multiplexing calls (false only with -IncludeAllThreads).</summary>
    public bool IsMultiplexerWait { get; init; }

    /// <summary>The system call number as the kernel shows it, in <see cref="Abi"/>'s table; -1 when running or not in a system call.</summary>
    public long SyscallNumber { get; init; }

    /// <summary>The system call table the process calls through: I386 for a 32-bit x86 program (other numbers, 32-bit layouts).</summary>
    public SyscallAbi Abi { get; init; }

    /// <summary>The epoll fd an epoll_wait, epoll_pwait or epoll_pwait2 waits on: pipe the object to Get-EpollInterest.</summary>
    public int? EpollFd { get; init; }

    /// <summary>The maxevents argument of an epoll wait.</summary>
    public int? MaxEvents { get; init; }

    /// <summary>How many registrations the epoll fd has now.</summary>
    public int? RegistrationCount { get; init; }

    /// <summary>poll's nfds (entries in the pollfd array), or select's nfds (highest fd + 1).</summary>
    public long? Nfds { get; init; }

    /// <summary>The fds a poll or select waits on, from the process's memory.</summary>
    public ItemList<WaitedFd> Fds { get; init; } = ItemList<WaitedFd>.Empty;

    /// <summary>select's three sets, as the process passed them (the kernel overwrites them only when the call returns).</summary>
    public ItemList<int> ReadFds { get; init; } = ItemList<int>.Empty;

    public ItemList<int> WriteFds { get; init; } = ItemList<int>.Empty;

    public ItemList<int> ExceptFds { get; init; } = ItemList<int>.Empty;

    /// <summary>
    /// The timeout the call was given, in milliseconds, in the calls' own convention: -1 waits forever, 0 returns at
    /// once. Null when it could not be read (the timespec or timeval lives in the process's memory).
    /// </summary>
    public double? TimeoutMilliseconds { get; init; }

    /// <summary>The timeout in words: "infinite", "5 s", "250 ms", or why it is not known.</summary>
    public string Timeout { get; init; } = string.Empty;

    /// <summary>The thread's state as /proc/&lt;pid&gt;/task/&lt;tid&gt;/stat shows it, e.g. "S (sleeping)".</summary>
    public string State { get; init; } = string.Empty;

    /// <summary>
    /// What holds the thread other than its own wait: stopped by a signal, held by a tracer, frozen, in D state,
    /// exiting. A held thread is not waiting for its fds even though its syscall file still shows the call.
    /// </summary>
    public ThreadHold Hold { get; init; }

    /// <summary>Whether the thread is in a multiplexing call and an event on its fds can wake it now (not held).</summary>
    public bool IsWaiting => IsMultiplexerWait && Hold == ThreadHold.None;

    /// <summary>The pid of the process tracing the thread (TracerPid), if any: a debugger, strace.</summary>
    public int? TracerPid { get; init; }

    /// <summary>The tracer's process name.</summary>
    public string? TracerName { get; init; }

    /// <summary>Where the thread sleeps in the kernel, from /proc/&lt;pid&gt;/task/&lt;tid&gt;/stack (with -IncludeKernelStack, as root).</summary>
    public ItemList<string>? KernelStack { get; init; }

    /// <summary>Where in the kernel the thread sleeps (/proc/&lt;pid&gt;/task/&lt;tid&gt;/wchan), e.g. "ep_poll", "do_sys_poll".</summary>
    public string WaitChannel { get; init; } = string.Empty;

    /// <summary>
    /// About how long the thread has not run: now minus the scheduler's se.exec_start in
    /// /proc/&lt;pid&gt;/task/&lt;tid&gt;/sched. Approximate: a wake-up that found nothing and slept again (a signal, a
    /// spurious wake-up) restarts it; null when the kernel does not expose it (no CONFIG_SCHED_DEBUG).
    /// </summary>
    public TimeSpan? WaitingFor { get; init; }

    /// <summary>What the call waits on in one line: "epoll fd 8 (3 registered)", "3 fds: 5 IN, 7 OUT, 9 IN".</summary>
    public string WaitsOn { get; init; } = string.Empty;

    /// <summary>
    /// What the module concludes about this wait: the thread held (stopped, traced, frozen, in D state, exiting), an
    /// epoll instance with nothing registered or with every registration stale, or several threads waiting on one
    /// instance. Empty when nothing is found.
    /// </summary>
    public ItemList<Diagnosis> Diagnoses { get; internal set; } = ItemList<Diagnosis>.Empty;

    /// <summary>What could not be read, if anything (memory not readable, arrays cut short).</summary>
    public string? Note { get; init; }

    /// <summary>The syscall line the thread was read in (for confirming a diagnosis on a second read).</summary>
    internal ThreadSyscall? Syscall { get; init; }

    /// <summary>The thread's schedstat when it was read: unchanged on a second read means it has not run since.</summary>
    internal string? RunStamp { get; init; }

    public override string ToString() => $"{ProcessId}/{ThreadId} {Call} {WaitsOn} timeout {Timeout}";
}
