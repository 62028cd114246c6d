using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// An exact trace of some processes' epoll calls: bpftrace started on <see cref="EpollCallProgram"/>, its probes
/// attached, the interest lists known so far read from fdinfo, then each record as it arrives turned into changes.
/// Disposing stops bpftrace.
/// </summary>
public sealed class ExactTrace : IDisposable
{
    private readonly BpfTrace _bpf;
    private readonly ExactInterestTracer _tracer;

    /// <summary>Each traced process, with its identity when the trace started (a pid taken since is not it).</summary>
    private readonly List<(int Pid, ulong? Identity)> _processes;

    private ExactTrace(BpfTrace bpf, ExactInterestTracer tracer, TimeSpan startup, IEnumerable<int> pids)
    {
        _bpf = bpf;
        _tracer = tracer;
        Startup = startup;
        _processes = pids.Select(pid => (pid, ProcessIdentity.PidfsInode(pid))).ToList();
    }

    /// <summary>Whether every traced process has exited (a zombie has, and a pid another process took since).</summary>
    public bool AllExited() => _processes.All(p =>
        Waits.ProcessCondition.HasExited(p.Pid) || (p.Identity is ulong then && ProcessIdentity.PidfsInode(p.Pid) != then));

    /// <summary>How long bpftrace took to compile the program and attach its probes.</summary>
    public TimeSpan Startup { get; }

    /// <summary>Events the kernel dropped (the buffer was full), as bpftrace counted them so far.</summary>
    public long Lost => _bpf.Lost;

    public int InstanceCount => _tracer.InstanceCount;

    public int RegistrationCount => _tracer.RegistrationCount;

    /// <summary>Starts tracing <paramref name="pids"/>; <paramref name="instances"/> are their epoll fds now, read once the probes are attached.</summary>
    /// <exception cref="BpfTraceException">bpftrace is missing, not permitted, without tracepoints, or failed.</exception>
    public static ExactTrace Start(IReadOnlyCollection<int> pids, IEnumerable<(int Pid, int EpollFd)> instances, int? onlyEpollFd, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var bpf = BpfTrace.StartAttached(EpollCallProgram.For(pids, EpollEventLayout.Current, Environment.ProcessId), EpollCallProgram.AttachedLine, cancel);
        try
        {
            var tracer = new ExactInterestTracer(onlyEpollFd);
            // Read after the probes are attached: a change made meanwhile is in both, and reported once (from the trace).
            foreach (var (pid, epollFd) in instances)
            {
                tracer.Know(pid, epollFd);
            }

            foreach (int pid in pids)
            {
                foreach (var (tid, epollFd, _) in Waits.EpollWaiters.EpollWaitsOf(pid))
                {
                    tracer.KnowWaiting(tid, epollFd);
                }
            }

            return new ExactTrace(bpf, tracer, clock.Elapsed, pids);
        }
        catch
        {
            bpf.Dispose();
            throw;
        }
    }

    /// <summary>Whether bpftrace has ended (on its own: a trace stopped by its caller is disposed) and every line was read.</summary>
    public bool Ended => _bpf.Ended;

    /// <summary>
    /// The changes of the next record (none, for a call that changes nothing traced), waiting at most
    /// <paramref name="wait"/> for one; false when no record came in that time, or bpftrace has ended.
    /// </summary>
    public bool TryNext(TimeSpan wait, CancellationToken cancel, out IReadOnlyList<EpollInterestChange> changes)
    {
        changes = Array.Empty<EpollInterestChange>();
        if (_bpf.Next(wait, cancel) is not string line)
        {
            return false;
        }

        if (EpollCallRecord.Parse(line) is { } record)
        {
            changes = _tracer.Apply(record).ToList();
        }

        return true;
    }

    /// <summary>
    /// The changes of every call made before now that bpftrace has not handed over yet (it reads the kernel's buffers
    /// in batches): this process calls getppid until the attach probe's line comes back, which was written after them.
    /// For the end of a trace whose processes have exited, so that their last calls are not cut off.
    /// </summary>
    public IEnumerable<EpollInterestChange> Flush(CancellationToken cancel)
    {
        var lines = new List<string>();
        _bpf.ReadUntilEcho(EpollCallProgram.AttachedLine, TimeSpan.FromSeconds(10), cancel, lines.Add);
        foreach (var record in lines.Select(EpollCallRecord.Parse).OfType<EpollCallRecord>())
        {
            foreach (var change in _tracer.Apply(record))
            {
                yield return change;
            }
        }

        // Lines of the same hand-over (another CPU's buffer) follow at once.
        while (TryNext(TimeSpan.FromMilliseconds(100), cancel, out var changes))
        {
            foreach (var change in changes)
            {
                yield return change;
            }
        }
    }

    /// <summary>What bpftrace said on its standard error, if it ended on its own.</summary>
    public string Said() => _bpf.Said();

    public void Dispose() => _bpf.Dispose();
}
