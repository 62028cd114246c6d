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

    /// <summary>Each traced process, with its identity when the trace started or followed it (a pid taken since is not it).</summary>
    private readonly List<(int Pid, ulong? Identity)> _processes;

    private readonly bool _follow;
    private readonly TimeOrderedRecords _held = new();

    private ExactTrace(BpfTrace bpf, ExactInterestTracer tracer, TimeSpan startup, IEnumerable<int> pids, bool follow)
    {
        _bpf = bpf;
        _follow = follow;
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
    /// <param name="follow">Trace the child processes they fork from now on (-Follow).</param>
    /// <exception cref="BpfTraceException">bpftrace is missing, not permitted, without tracepoints, or failed.</exception>
    public static ExactTrace Start(IReadOnlyCollection<int> pids, IEnumerable<(int Pid, int EpollFd)> instances, int? onlyEpollFd, bool follow, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var bpf = BpfTrace.StartAttached(EpollCallProgram.For(pids, EpollEventLayout.Current, Environment.ProcessId, follow), EpollCallProgram.AttachedLine, cancel);
        try
        {
            var tracer = new ExactInterestTracer(onlyEpollFd, follow);
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

            return new ExactTrace(bpf, tracer, clock.Elapsed, pids, follow);
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
    /// The changes of the records due now (held <see cref="TimeOrderedRecords.Window"/> so that every CPU's lines are
    /// in order), waiting at most <paramref name="wait"/> for a line; false when no line came and none was due.
    /// </summary>
    public bool TryNext(TimeSpan wait, CancellationToken cancel, out IReadOnlyList<EpollInterestChange> changes)
    {
        var until = _held.UntilNextDue(TimeOrderedRecords.MonotonicNanoseconds());
        bool read = false;
        for (var line = _bpf.Next(until is TimeSpan due && due < wait ? due : wait, cancel); line is not null; line = _bpf.Next(TimeSpan.Zero, cancel))
        {
            read = true;
            if (EpollCallRecord.Parse(line) is { } record)
            {
                _held.Add(record);
            }
        }

        var ready = _bpf.Ended ? _held.All() : _held.Due(TimeOrderedRecords.MonotonicNanoseconds());
        changes = ready.SelectMany(Apply).ToList();
        return read || ready.Count > 0;
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
        // Lines of the same hand-over (another CPU's buffer) follow at once.
        for (var line = _bpf.Next(TimeSpan.FromMilliseconds(100), cancel); line is not null; line = _bpf.Next(TimeSpan.FromMilliseconds(100), cancel))
        {
            lines.Add(line);
        }

        foreach (var record in lines.Select(EpollCallRecord.Parse).OfType<EpollCallRecord>())
        {
            _held.Add(record);
        }

        return _held.All().SelectMany(Apply).ToList();
    }

    /// <summary>The changes of the records still held (the trace's end: its duration is over).</summary>
    public IReadOnlyList<EpollInterestChange> Release() => _held.All().SelectMany(Apply).ToList();

    /// <summary>The record's changes; a child followed is a traced process from here on (the trace ends when it has exited too).</summary>
    private IEnumerable<EpollInterestChange> Apply(EpollCallRecord record)
    {
        if (_follow && record is { Call: EpollCall.Fork, Thread: false })
        {
            _processes.Add((record.Child, ProcessIdentity.PidfsInode(record.Child)));
        }

        return _tracer.Apply(record);
    }

    /// <summary>What bpftrace said on its standard error, if it ended on its own.</summary>
    public string Said() => _bpf.Said();

    public void Dispose() => _bpf.Dispose();
}
