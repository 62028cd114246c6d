using System.Collections.Generic;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Interest;

/// <summary>Which view an <see cref="EpollInterest"/> row is meant for.</summary>
public enum InterestView
{
    /// <summary>One row per registration, instance by instance.</summary>
    Registrations,

    /// <summary>With what is ready on each registered file (-Readiness).</summary>
    Readiness,

    /// <summary>The instances that watch one file, grouped by the file (-Target, -TargetPort).</summary>
    Watchers,
}

/// <summary>
/// One Get-EpollInterest request: which processes (and epoll fds), what to read of their instances, and which files
/// to look for. Built once by the caller; the query reads it and never asks again.
/// </summary>
public sealed record InterestRequest
{
    /// <summary>The processes to read, each with the one epoll fd asked for (null: all of its epoll fds).</summary>
    public required IReadOnlyList<(int Pid, int? EpollFd)> Processes { get; init; }

    /// <summary>Whether the processes were named one by one: then a process that fails is an error, and one with no epoll fd is said.</summary>
    public bool NamedExplicitly { get; init; }

    /// <summary>Whether the processes are every process on the host (for the words of "no instance watches it").</summary>
    public bool WholeHost { get; init; }

    /// <summary>Probe what is ready on each registered file.</summary>
    public bool Readiness { get; init; }

    /// <summary>With <see cref="Readiness"/>: how long to wait before a second look confirms readiness diagnoses (0: one look).</summary>
    public int SettleMilliseconds { get; init; }

    /// <summary>Read nothing per registration (see <see cref="ExpandOptions.NoResolve"/>).</summary>
    public bool NoResolve { get; init; }

    /// <summary>Only the registrations of these files (built on <see cref="EpollInterestQuery.Resolver"/>).</summary>
    public TargetMatcher? Only { get; init; }

    /// <summary>Count the sockets on these local ports in one <see cref="PortWatch"/> per instance and port, instead of rows.</summary>
    public IReadOnlySet<int>? SummarizePorts { get; init; }
}

/// <summary>What a request gives back, in the order it is found: rows and what refused to be read, together.</summary>
public abstract record InterestResult
{
    private InterestResult()
    {
    }

    /// <summary>A registration, for a view.</summary>
    public sealed record Row(EpollInterest Interest, InterestView View) : InterestResult;

    /// <summary>The sockets of one port in one instance, counted.</summary>
    public sealed record Watch(PortWatch PortWatch) : InterestResult;

    /// <summary>A process (or instance) that could not be read: gone, or denied.</summary>
    public sealed record Refused(int Pid, ProcessUnreadableException Reason) : InterestResult;

    /// <summary>Processes skipped as unreadable while the host or a name was searched, named together once.</summary>
    public sealed record Skipped(IReadOnlyList<int> Pids) : InterestResult;

    /// <summary>A process read that has no epoll fd (or not the one asked for).</summary>
    public sealed record NoEpollFd(int Pid, string ProcessName, int? EpollFd, bool OnlyProcessAsked) : InterestResult;

    /// <summary>A file or port asked for that no instance read registers; <see cref="Detail"/> says where it is open.</summary>
    public sealed record Unwatched(TargetSpec? Target, int? Port, string Detail, bool WholeHost) : InterestResult;

    /// <summary>A process whose fds could not be copied to see what is ready (its rows come without ReadyEvents).</summary>
    public sealed record ReadinessDenied(int Pid) : InterestResult;
}
