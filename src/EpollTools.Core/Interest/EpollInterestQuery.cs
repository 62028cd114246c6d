using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Interest;

/// <summary>
/// Answers one <see cref="InterestRequest"/>: finds the epoll fds of the processes, groups the shared instances,
/// reads each (streaming its rows), confirms momentary diagnoses after the settle interval, counts ports and says
/// which files asked for nobody watches. The caller writes what comes back and holds no phase of its own.
/// </summary>
public sealed class EpollInterestQuery
{
    private readonly InterestListReader _reader;
    private readonly InstanceFinder _finder;

    /// <param name="verbose">Where the query says what it skipped and why.</param>
    public EpollInterestQuery(Action<string>? verbose = null)
    {
        _reader = new InterestListReader(verbose);
        _finder = new InstanceFinder(_reader.Tables);
    }

    /// <summary>The resolver of this request: a <see cref="TargetMatcher"/> for <see cref="InterestRequest.Only"/> is built on it.</summary>
    public TargetResolver Resolver => _reader.Resolver;

    /// <summary>The results of <paramref name="request"/>, as they are read. Ends early when <paramref name="cancel"/> is set.</summary>
    public IEnumerable<InterestResult> Run(InterestRequest request, CancellationToken cancel = default)
    {
        var found = new List<InterestResult>();
        var instances = FindInstances(request.Processes, request.NamedExplicitly, found.Add, cancel);
        foreach (var result in found)
        {
            yield return result;
        }

        using var probe = request.Readiness ? new ReadinessProbe() : null;
        var options = new ExpandOptions(probe, InterestListReader.FindSharedTargets(instances), request.Only, request.NoResolve);
        var view = request.Only is not null ? InterestView.Watchers : probe is not null ? InterestView.Readiness : InterestView.Registrations;
        bool confirm = probe is not null && request.SettleMilliseconds > 0;

        // The watchers of a file are written together, grouped by the file, once every instance is read: the rows
        // are few (only the files asked for), and the view groups them under each file.
        var watchers = new List<EpollInterest>();

        // An instance with a diagnosis drawn from what is ready at one moment is held back, with the threads that wait
        // on it then, and read again once after the settle interval: the others are written as they are read.
        var held = new List<(IReadOnlyList<InstanceHolder> Instance, List<EpollInterest> Rows, List<EpollWaiterSnapshot> Waiters)>();
        foreach (var instance in instances)
        {
            if (cancel.IsCancellationRequested)
            {
                yield break;
            }

            if (!confirm)
            {
                foreach (var (row, refusal) in ReadInstance(instance, options))
                {
                    // Row by row, with nothing made per row but the result itself: an instance may have 100,000.
                    if (refusal is not null)
                    {
                        yield return refusal;
                    }
                    else if (view == InterestView.Watchers)
                    {
                        watchers.Add(row!);
                    }
                    else
                    {
                        yield return new InterestResult.Row(row!, view);
                    }
                }

                continue;
            }

            var read = ReadInstance(instance, options).ToList();
            if (read.FirstOrDefault(r => r.Refusal is not null).Refusal is { } refused)
            {
                yield return refused; // nothing of it is written: the rows held back would be confirmed by nothing
                continue;
            }

            var rows = read.Select(r => r.Row!).ToList();
            if (RegistrationConfirmation.NeedsConfirmation(rows))
            {
                held.Add((instance, rows, EpollWaiters.Snapshot(instance)));
                continue;
            }

            foreach (var result in Emit(rows, view, watchers))
            {
                yield return result;
            }
        }

        if (held.Count > 0)
        {
            if (cancel.WaitHandle.WaitOne(request.SettleMilliseconds))
            {
                yield break; // Ctrl+C
            }

            foreach (var (instance, rows, waiters) in held)
            {
                // None when gone since: nothing confirms what was seen.
                var again = ReadInstance(instance, options).TakeWhile(r => r.Refusal is null).Select(r => r.Row!).ToList();
                RegistrationConfirmation.Confirm(rows, again, EpollWaiters.AnyStillWaiting(waiters));
                foreach (var result in Emit(rows, view, watchers))
                {
                    yield return result;
                }
            }
        }

        if (request.SummarizePorts is { } ports)
        {
            // A port's sockets counted per instance: thousands of connections are one object. Rows of -Target files
            // in the same call, and sockets not on the ports asked for, stay rows.
            var onPorts = OnPorts(watchers, ports);
            foreach (var watch in PortWatches.Summarize(onPorts))
            {
                yield return new InterestResult.Watch(watch);
            }

            var counted = onPorts.Select(pair => pair.Row).ToHashSet();
            watchers.RemoveAll(counted.Contains);
        }

        foreach (var file in watchers.GroupBy(w => (w.TargetInode, w.TargetDevice)))
        {
            foreach (var interest in file)
            {
                yield return new InterestResult.Row(interest, InterestView.Watchers);
            }
        }

        foreach (var (target, port) in request.Only?.Unmatched ?? Enumerable.Empty<(TargetSpec?, int?)>())
        {
            yield return new InterestResult.Unwatched(target, port, DescribeUnwatched(target), request.WholeHost);
        }

        foreach (int pid in probe?.DeniedPids ?? Array.Empty<int>())
        {
            yield return new InterestResult.ReadinessDenied(pid);
        }
    }

    /// <summary>
    /// The instances of <paramref name="processes"/>, grouped (see <see cref="InstanceFinder.GroupSharedInstances"/>):
    /// what could not be read, and processes with no epoll fd, are given to <paramref name="report"/> as they are met.
    /// </summary>
    public List<List<InstanceHolder>> FindInstances(IReadOnlyList<(int Pid, int? EpollFd)> processes, bool namedExplicitly, Action<InterestResult> report, CancellationToken cancel = default)
    {
        // Each whole table is read to find the epoll fds in it: listed on every core at once, and kept for the request.
        _reader.Tables.Load(processes.Where(r => r.EpollFd is null).Select(r => r.Pid));
        var holders = new List<InstanceHolder>();
        var skipped = new List<int>();
        bool oneProcessAsked = processes.Select(r => r.Pid).Distinct().Count() == 1;
        foreach (var (pid, epollFd) in processes)
        {
            if (cancel.IsCancellationRequested)
            {
                break;
            }

            try
            {
                var found = _finder.Find(pid, epollFd, out string name);
                if (found.Count == 0)
                {
                    report(new InterestResult.NoEpollFd(pid, name, epollFd, namedExplicitly && oneProcessAsked));
                }

                holders.AddRange(found);
            }
            catch (ProcessUnreadableException e)
            {
                if (e is ProcessAccessDeniedException && !namedExplicitly)
                {
                    skipped.Add(pid);
                }

                report(new InterestResult.Refused(pid, e));
            }
        }

        if (skipped.Count > 0)
        {
            report(new InterestResult.Skipped(skipped));
        }

        return InstanceFinder.GroupSharedInstances(holders);
    }

    /// <summary>Rows for <paramref name="view"/>; the watchers of files are kept back in <paramref name="watchers"/>, to be written grouped at the end.</summary>
    private static IEnumerable<InterestResult> Emit(IEnumerable<EpollInterest> rows, InterestView view, List<EpollInterest> watchers)
    {
        if (view == InterestView.Watchers)
        {
            watchers.AddRange(rows);
            return Array.Empty<InterestResult>();
        }

        return rows.Select(row => new InterestResult.Row(row, view));
    }

    /// <summary>
    /// One instance's rows as they are read, or, in their place, why it could not be read (no holder readable, or the
    /// process refused midway: the rows before it stand).
    /// </summary>
    private IEnumerable<(EpollInterest? Row, InterestResult? Refusal)> ReadInstance(IReadOnlyList<InstanceHolder> instance, ExpandOptions options)
    {
        using var rows = _reader.Read(instance, options).GetEnumerator();
        while (true)
        {
            InterestResult? refusal = null;
            try
            {
                if (!rows.MoveNext())
                {
                    yield break;
                }
            }
            catch (ProcessUnreadableException e)
            {
                refusal = new InterestResult.Refused(instance[0].Pid, e);
            }

            if (refusal is not null)
            {
                yield return (null, refusal);
                yield break;
            }

            yield return (rows.Current, null);
        }
    }

    /// <summary>The rows whose socket has one of <paramref name="ports"/> as its local port, each with its socket.</summary>
    private List<(EpollInterest Row, SocketEntry? Socket)> OnPorts(List<EpollInterest> rows, IReadOnlySet<int> ports)
    {
        var found = new List<(EpollInterest, SocketEntry?)>();
        foreach (var row in rows)
        {
            if (row.TargetKind == TargetKind.Socket && row.TargetInode is ulong inode
                && Resolver.FindSocket(row.TargetProcessId, inode) is { LocalPort: int port } socket && ports.Contains(port))
            {
                found.Add((row, socket));
            }
        }

        return found;
    }

    /// <summary>Where a file asked for and watched by no instance is open, and what it is: ": it is fd 7 of 1234 (python3), TCP ..., 261632 bytes unread".</summary>
    private string DescribeUnwatched(TargetSpec? target) => target switch
    {
        TargetSpec.ProcessFd(int pid, int fd) => DescribeHeld(pid, fd),
        TargetSpec.Inode(_, ulong inode) => Resolver.Holders.FirstHolderOf(inode) is (int pid, int fd) ? DescribeHeld(pid, fd) : string.Empty,
        _ => string.Empty,
    };

    private string DescribeHeld(int pid, int fd)
    {
        try
        {
            string? link = FdFiles.ReadLink(pid, fd);
            return link is null ? string.Empty : $": it is fd {fd} of {pid} ({ProcFs.ReadComm(pid) ?? "?"}), {Resolver.Resolve(pid, fd, link).Description}";
        }
        catch (ProcessUnreadableException)
        {
            return string.Empty;
        }
    }
}
