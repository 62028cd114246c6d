using System;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>Why an exact trace cannot run here.</summary>
public enum BpfTraceProblem
{
    /// <summary>No bpftrace on PATH.</summary>
    NotInstalled,

    /// <summary>Not root, and without CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN).</summary>
    PermissionDenied,

    /// <summary>The syscall tracepoints are not there (tracefs not mounted, or a kernel without them).</summary>
    NotSupported,

    /// <summary>bpftrace refused the program or ended before its probes were attached.</summary>
    Failed,
}

/// <summary>An exact trace that cannot start, with why and bpftrace's own words where it said any.</summary>
public sealed class BpfTraceException : Exception
{
    public BpfTraceException(BpfTraceProblem problem, string message)
        : base(message) => Problem = problem;

    public BpfTraceProblem Problem { get; }
}
