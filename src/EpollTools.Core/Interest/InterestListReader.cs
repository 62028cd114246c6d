using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.ExceptionServices;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Interest;

/// <summary>What <see cref="InterestListReader.Read"/> reads beyond the interest list itself, or leaves out.</summary>
/// <param name="Readiness">Poll each registered file for what is ready now (see <see cref="ReadinessProbe"/>).</param>
/// <param name="SharedTargets">The files registered in several of the instances read, for the EXCLUSIVE-mix diagnosis.</param>
/// <param name="Only">Only the registrations of the files it matches, with the threads waiting on the instance
/// (<see cref="EpollInterest.WaitingThreadIds"/>).</param>
/// <param name="NoResolve">Nothing read per registration: no target resolved, no state judged (<see cref="RegistrationState.NotChecked"/>).</param>
public sealed record ExpandOptions(ReadinessProbe? Readiness = null, SharedTargets? SharedTargets = null, TargetMatcher? Only = null, bool NoResolve = false);

/// <summary>
/// Turns the interest list of an epoll instance into <see cref="EpollInterest"/> rows: flags decoded, targets
/// resolved, stale registrations found (see <see cref="RegistrationJudge"/>). One reader serves one request: the fd
/// tables it lists and the holds it reads are kept for the request's other instances.
/// </summary>
public sealed class InterestListReader
{
    /// <summary>
    /// Past this many registrations of an instance held by several processes, the links of the holders' fds are read
    /// from their fd tables, listed once (on every core) and shared with the search for pipes' other ends, instead of
    /// one readlink per registration and holder tried. An instance with one holder reads the link of each registered
    /// fd alone: a readlink each either way, and its first row is not held back by listing the whole table.
    /// </summary>
    public const int TableLookupThreshold = 1024;

    /// <summary>The holds of processes read in this request (see <see cref="HoldOf"/>).</summary>
    private readonly Dictionary<int, ThreadCondition> _holds = new();

    /// <param name="verbose">Where the reader says what it skipped and why.</param>
    /// <param name="tables">The fd tables of the request, shared with the search for epoll fds; new ones if none.</param>
    public InterestListReader(Action<string>? verbose = null, FdTables? tables = null)
    {
        Verbose = verbose ?? (_ => { });
        Tables = tables ?? new FdTables();
        Resolver = new TargetResolver(Tables);
    }

    /// <summary>The fd tables listed in this request, shared with its resolver.</summary>
    public FdTables Tables { get; }

    public TargetResolver Resolver { get; }

    internal Action<string> Verbose { get; }

    /// <summary>
    /// The registrations of one instance, by target fd. Its fdinfo is read here, from the first holder that
    /// still has it open. A registration's tfd is a number in the fd table of whichever process registered it: for
    /// an instance held by several processes, each line is resolved in the first holder where that fd is the
    /// registered file (<see cref="EpollInterest.TargetProcessId"/>), else judged as the first holder sees it.
    /// Throws <see cref="ProcessUnreadableException"/> when no holder can be read.
    /// </summary>
    /// <param name="instance">The holders of one instance, as <see cref="InstanceFinder.GroupSharedInstances"/> gives them.</param>
    /// <param name="options">What more to read, or less (see <see cref="ExpandOptions"/>); none by default.</param>
    public IEnumerable<EpollInterest> Read(IReadOnlyList<InstanceHolder> instance, ExpandOptions? options = null)
    {
        // Each holder's /proc/<pid> opened once for the instance and everything read relative to it: the fdinfo, the
        // links (a fifth cheaper than by full path), the files' status. A process that exits is then never read in
        // the place of one that takes its pid, and one that took the pid since the search is not read at all.
        using var directories = new FdDirectories();
        if (ReadFromFirstHolder(instance, directories, out var failure) is not { } read)
        {
            if (failure is not null)
            {
                ExceptionDispatchInfo.Throw(failure); // no holder could be read: the first one's reason is the instance's
            }

            var first = instance[0];
            Verbose(directories.Of(first.Pid, first.Identity)?.IsAlive == true
                ? $"Process {first.Pid}: epoll fd {first.Fd} was closed while it was read; skipped."
                : ExitedWhileRead(first));
            yield break;
        }

        var (owner, info) = read;
        foreach (var error in info.Errors)
        {
            Verbose($"Process {owner.Pid} epoll fd {owner.Fd}: line {error.LineNumber} not understood ({error.Reason}): {error.Line}");
        }

        foreach (var row in new InstanceRead(this, instance, owner, info, directories, options ?? new ExpandOptions()).Rows())
        {
            yield return row;
        }
    }

    internal static string ExitedWhileRead(InstanceHolder owner) => $"Process {owner.Pid} exited while its epoll fd {owner.Fd} was being read; the rest of it is skipped.";

    /// <summary>Whether a process is held (stopped, traced, frozen, exiting), read once per request and only when a diagnosis depends on it.</summary>
    internal ThreadCondition HoldOf(int pid)
    {
        if (!_holds.TryGetValue(pid, out var condition))
        {
            _holds[pid] = condition = ThreadCondition.OfProcess(pid);
        }

        return condition;
    }

    /// <summary>
    /// The files registered in more than one of <paramref name="instances"/> (as <see cref="InstanceFinder.GroupSharedInstances"/>
    /// gives them) with EXCLUSIVE in some, from one more read of each instance's fdinfo (two where any registration is
    /// EXCLUSIVE); nothing to read for a single instance. An instance that cannot be read is left out (its read
    /// reports it).
    /// </summary>
    public static SharedTargets FindSharedTargets(IReadOnlyList<IReadOnlyList<InstanceHolder>> instances)
    {
        if (instances.Count < 2)
        {
            return SharedTargets.None;
        }

        // Lazy: each instance is parsed as it is read and let go, and read again only if the index needs a second pass.
        using var directories = new FdDirectories();
        return SharedTargets.Build(instances
            .Select(holders => ReadFromFirstHolder(holders, directories, out _))
            .OfType<(InstanceHolder Holder, ParsedFdInfo Info)>()
            .Select(read => ($"{read.Holder.Pid}:{read.Holder.Fd}", read.Info)));
    }

    /// <summary>
    /// An instance's interest list, parsed as it is read from the first of its holders whose fdinfo can be read: a
    /// holder that exited or that this caller may not read is passed over while another can serve. Null when none
    /// can, with the first such failure met (none when the epoll fd was closed everywhere).
    /// </summary>
    private static (InstanceHolder Holder, ParsedFdInfo Info)? ReadFromFirstHolder(IReadOnlyList<InstanceHolder> instance, FdDirectories directories, out Exception? failure)
    {
        failure = null;
        foreach (var holder in instance)
        {
            try
            {
                if (directories.Of(holder.Pid, holder.Identity)?.ParseFdInfo(holder.Fd) is ParsedFdInfo info)
                {
                    return (holder, info);
                }
            }
            catch (ProcessUnreadableException e)
            {
                failure ??= e;
            }
        }

        return null;
    }
}
