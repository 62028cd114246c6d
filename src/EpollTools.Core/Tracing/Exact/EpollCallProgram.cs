using System.Collections.Generic;
using System.Linq;
using System.Text;
using EpollTools.Core.Native;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// The bpftrace program of an exact trace: the epoll calls of some processes, and their closes and dup2s, from the
/// syscall tracepoints (kprobes on fs/eventpoll.c are not traceable on every kernel). Each call is reported once, at
/// its return, as one line the <see cref="EpollCallRecord"/> parser reads; the arguments are kept from the enter
/// probe in maps keyed by thread. The events a wait returned are read from the caller's array, at most
/// <see cref="EventsPerWakeup"/> of them (a larger return says how many there were).
/// </summary>
public static class EpollCallProgram
{
    /// <summary>How many of the events one wait returned are read (bpftrace unrolls the loop: it must be a constant).</summary>
    public const int EventsPerWakeup = 8;

    /// <summary>
    /// The most processes one program traces: each is a test in every probe's predicate, which the kernel's verifier
    /// and each traced call's cost bound.
    /// </summary>
    public const int MaxProcesses = 64;

    /// <summary>The probes' predicate for these processes ("pid == 5 || pid == 12").</summary>
    public static string OnlyThese(IEnumerable<int> pids) => string.Join(" || ", pids.Distinct().Order().Select(pid => $"pid == {pid}"));

    /// <summary>
    /// The tracepoint field that says a task's exit ends its process (include/trace/events/sched.h, sched_process_exit:
    /// newer kernels have it); without it, the exit of the thread whose id is the process's is taken for the process's.
    /// </summary>
    private static string ProcessEnds => TracepointFormat.HasField("sched", "sched_process_exit", "group_dead") ? "args->group_dead" : "tid == pid";

    /// <summary>The line the last probe prints when the tracing process calls getppid: every probe before it is attached.</summary>
    public const string AttachedLine = "A";

    /// <summary>The probe, last in a program, that says its probes are all attached (see <see cref="BpfTrace.WaitProbesAttached"/>).</summary>
    public static string AttachProbe(int sentinelPid) => $"tracepoint:syscalls:sys_enter_getppid /pid == {sentinelPid}/ {{\n  printf(\"{AttachedLine}\\n\");\n}}\n";

    /// <param name="pids">The processes traced.</param>
    /// <param name="layout">struct epoll_event on this architecture: where an event's data is.</param>
    /// <param name="sentinelPid">
    /// The process that waits for the probes: bpftrace says it is attaching before it does, and attaches in the
    /// program's order, so the last probe fires on that process's getppid only once all the others are attached.
    /// </param>
    /// <param name="follow">
    /// Trace the child processes the traced ones fork from now on, and theirs (bpftrace keeps them in a map the
    /// predicate reads); either way each fork, thread start and exit is reported.
    /// </param>
    public static string For(IReadOnlyCollection<int> pids, EpollEventLayout layout, int sentinelPid, bool follow = false)
    {
        string only = follow ? $"{OnlyThese(pids)} || @followed[pid]" : OnlyThese(pids);
        var program = new StringBuilder();
        void Probe(string attach, string predicate, string body) => program.Append($"{attach} /{predicate}/ {{\n{body}}}\n");

        // A call's arguments are kept from its enter probe in one tuple a thread (each map operation costs the traced
        // call), not deleted at its return: the thread's next call overwrites them, and a call entered before the
        // probes were attached finds none (zeros).
        Probe("tracepoint:syscalls:sys_enter_epoll_ctl", only,
            "  $ev = args->event != 0 ? *(uint32 *)((uint64)args->event) : (uint32)0;\n" +
            $"  $data = args->event != 0 ? *(uint64 *)((uint64)args->event + {layout.DataOffset}) : (uint64)0;\n" +
            "  @ctl[tid] = (args->epfd, args->op, args->fd, $ev, $data);\n");
        Probe("tracepoint:syscalls:sys_exit_epoll_ctl", only,
            "  $c = @ctl[tid];\n" +
            "  if ($c.1 != 0) {\n    printf(\"C %llu %d %d %d %d %d %u %llu %d\\n\", nsecs, pid, tid, $c.0, $c.1, $c.2, $c.3, $c.4, args->ret);\n  }\n");

        Probe("tracepoint:syscalls:sys_enter_epoll_wait,tracepoint:syscalls:sys_enter_epoll_pwait", only,
            $"  @wait[tid] = (args->epfd, (uint64)args->events, {TimeoutSign.OfMilliseconds("args->timeout")});\n");
        Probe("tracepoint:syscalls:sys_enter_epoll_pwait2", only,
            $"  @wait[tid] = (args->epfd, (uint64)args->events, {TimeoutSign.OfPointer("args->timeout")});\n");
        var wait = new StringBuilder();
        // A wait entered before the probes were attached has no saved arguments: its return is said without its events.
        wait.Append("  $w = @wait[tid];\n");
        wait.Append("  if ($w.1 == 0) {\n    printf(\"U %llu %d %d %lld\\n\", nsecs, pid, tid, (int64)args->ret);\n    return;\n  }\n");
        wait.Append("  $n = (int64)args->ret; $array = $w.1;\n");
        // Each line costs the traced call a perf buffer output (and its reader's wakeup): the first event rides on
        // the wait's own line, the others follow as lines of their own.
        wait.Append("  if ($n > 0) {\n");
        wait.Append($"    printf(\"W %llu %d %d %d %d %lld %u %llu\\n\", nsecs, pid, tid, $w.0, $w.2, $n, *(uint32 *)$array, *(uint64 *)($array + {layout.DataOffset}));\n");
        wait.Append("  } else {\n    printf(\"W %llu %d %d %d %d %lld\\n\", nsecs, pid, tid, $w.0, $w.2, $n);\n  }\n");
        wait.Append("  $i = (int64)1;\n");
        wait.Append($"  unroll({EventsPerWakeup - 1}) {{\n");
        wait.Append("    if ($i < $n) {\n");
        wait.Append($"      $at = $array + (uint64)($i * {layout.Size});\n");
        wait.Append($"      printf(\"E %llu %d %d %d %lld %u %llu\\n\", nsecs, pid, tid, $w.0, $i, *(uint32 *)$at, *(uint64 *)($at + {layout.DataOffset}));\n");
        wait.Append("    }\n    $i++;\n  }\n");
        Probe("tracepoint:syscalls:sys_exit_epoll_wait,tracepoint:syscalls:sys_exit_epoll_pwait,tracepoint:syscalls:sys_exit_epoll_pwait2", only, wait.ToString());

        Probe("tracepoint:syscalls:sys_exit_epoll_create1,tracepoint:syscalls:sys_exit_epoll_create", only,
            "  printf(\"N %llu %d %d %lld\\n\", nsecs, pid, tid, (int64)args->ret);\n");

        Probe("tracepoint:syscalls:sys_enter_close", only, "  @close_fd[tid] = args->fd + 1;\n");
        Probe("tracepoint:syscalls:sys_exit_close", $"({only}) && @close_fd[tid]",
            "  printf(\"X %llu %d %d %d %lld\\n\", nsecs, pid, tid, @close_fd[tid] - 1, (int64)args->ret);\n  delete(@close_fd[tid]);\n");

        Probe("tracepoint:syscalls:sys_enter_dup2,tracepoint:syscalls:sys_enter_dup3", only, "  @dup_old[tid] = args->oldfd + 1; @dup_new[tid] = args->newfd;\n");
        Probe("tracepoint:syscalls:sys_exit_dup2,tracepoint:syscalls:sys_exit_dup3", $"({only}) && @dup_old[tid]",
            "  printf(\"D %llu %d %d %d %d %lld\\n\", nsecs, pid, tid, @dup_old[tid] - 1, @dup_new[tid], (int64)args->ret);\n  delete(@dup_old[tid]); delete(@dup_new[tid]);\n");

        // A fork (clone without CLONE_THREAD, fork, vfork) or a new thread: sched_process_fork runs in the parent, in
        // its clone call, whose flags the enter probes kept (clone3 passes them in struct clone_args, first field).
        Probe("tracepoint:syscalls:sys_enter_clone", only, "  @clone_flags[tid] = args->clone_flags;\n");
        Probe("tracepoint:syscalls:sys_enter_clone3", only, "  @clone_flags[tid] = *(uint64 *)((uint64)args->uargs);\n");
        Probe("tracepoint:sched:sched_process_fork", only,
            $"  $thread = (@clone_flags[tid] & {CloneConstants.CLONE_THREAD}) != 0;\n" +
            "  printf(\"F %llu %d %d %d %d\\n\", nsecs, pid, tid, args->child_pid, $thread);\n" +
            (follow ? "  if (!$thread) { @followed[args->child_pid] = 1; }\n" : string.Empty) +
            "  delete(@clone_flags[tid]);\n");
        Probe("tracepoint:sched:sched_process_exit", only,
            $"  printf(\"Q %llu %d %d %d\\n\", nsecs, pid, tid, {ProcessEnds} ? 1 : 0);\n" +
            (follow ? $"  if ({ProcessEnds}) {{ delete(@followed[pid]); }}\n" : string.Empty));

        program.Append(AttachProbe(sentinelPid));

        // Maps are printed at exit unless cleared: an exact trace wants its lines only.
        program.Append("END {\n  clear(@ctl); clear(@wait); clear(@close_fd); clear(@dup_old); clear(@dup_new); clear(@clone_flags);" +
            (follow ? " clear(@followed);" : string.Empty) + "\n}\n");
        return program.ToString();
    }
}
