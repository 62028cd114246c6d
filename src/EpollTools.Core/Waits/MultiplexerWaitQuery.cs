using System.Collections.Generic;
using System.Linq;
using System.Threading;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Waits;

/// <summary>One Get-MultiplexerWait request: which processes, which threads, what more to read.</summary>
public sealed record WaitRequest
{
    /// <summary>The processes to read, in the order to read them.</summary>
    public required IReadOnlyList<int> Processes { get; init; }

    /// <summary>Whether the processes were named one by one: then a process that fails is an error, and one with no waiting thread is said.</summary>
    public bool NamedExplicitly { get; init; }

    /// <summary>Every thread, not only those in a multiplexing wait.</summary>
    public bool IncludeAllThreads { get; init; }

    /// <summary>Each listed thread's kernel stack (root only).</summary>
    public bool IncludeKernelStack { get; init; }

    /// <summary>How long to wait before a second look confirms the diagnoses (0: one look).</summary>
    public int SettleMilliseconds { get; init; }
}

/// <summary>What a waits request gives back, in the order it is found.</summary>
public abstract record WaitResult
{
    private WaitResult()
    {
    }

    /// <summary>One thread (in a multiplexing wait, or any with <see cref="WaitRequest.IncludeAllThreads"/>).</summary>
    public sealed record Wait(MultiplexerWait Thread) : WaitResult;

    /// <summary>A process whose threads could not be read: gone, or denied.</summary>
    public sealed record Refused(int Pid, ProcessUnreadableException Reason) : WaitResult;

    /// <summary>Processes skipped as unreadable while the host or a name was searched, named together once.</summary>
    public sealed record Skipped(IReadOnlyList<int> Pids) : WaitResult;

    /// <summary>The one process asked for has no thread in a multiplexing wait.</summary>
    public sealed record NoWait(int Pid) : WaitResult;
}

/// <summary>
/// Answers one <see cref="WaitRequest"/>, process by process: each process's threads are written as soon as it is read,
/// unless a diagnosis among them needs a second look, in which case they come after the settle interval, confirmed.
/// Several waiters on one instance shared by several processes are known from a survey of the epoll waits of every
/// process asked for, made first (<see cref="SharedInstanceWaiters"/>).
/// </summary>
public sealed class MultiplexerWaitQuery
{
    /// <summary>The results of <paramref name="request"/>, as they are read. Ends early when <paramref name="cancel"/> is set.</summary>
    public IEnumerable<WaitResult> Run(WaitRequest request, CancellationToken cancel = default)
    {
        var scanner = new MultiplexerWaitScanner { IncludeKernelStack = request.IncludeKernelStack };
        var shared = request.Processes.Count > 1 ? SharedInstanceWaiters.Survey(request.Processes) : SharedInstanceWaiters.None;
        bool confirm = request.SettleMilliseconds > 0;
        var held = new List<MultiplexerWait>();
        var skipped = new List<int>();
        foreach (int pid in request.Processes)
        {
            if (cancel.IsCancellationRequested)
            {
                yield break;
            }

            List<MultiplexerWait> waits;
            WaitResult? refusal = null;
            try
            {
                waits = scanner.Scan(pid, request.IncludeAllThreads);
            }
            catch (ProcessUnreadableException e)
            {
                if (e is ProcessAccessDeniedException && !request.NamedExplicitly)
                {
                    skipped.Add(pid);
                }

                refusal = new WaitResult.Refused(pid, e);
                waits = new List<MultiplexerWait>();
            }

            if (refusal is not null)
            {
                yield return refusal;
                continue;
            }

            if (waits.Count == 0 && request.NamedExplicitly && request.Processes.Count == 1)
            {
                yield return new WaitResult.NoWait(pid);
            }

            shared.Diagnose(waits);
            if (confirm && waits.Any(w => w.Diagnoses.Count > 0))
            {
                held.AddRange(waits);
                continue;
            }

            foreach (var wait in waits)
            {
                yield return new WaitResult.Wait(wait);
            }
        }

        if (skipped.Count > 0)
        {
            yield return new WaitResult.Skipped(skipped);
        }

        if (held.Count == 0 || cancel.WaitHandle.WaitOne(request.SettleMilliseconds))
        {
            yield break; // nothing to confirm, or Ctrl+C
        }

        Confirm(held, request.IncludeAllThreads, scanner.IncludeKernelStack);
        foreach (var wait in held)
        {
            yield return new WaitResult.Wait(wait);
        }
    }

    /// <summary>Reads the processes with a diagnosed wait again and keeps on each wait what the second read confirms.</summary>
    private static void Confirm(List<MultiplexerWait> waits, bool includeAllThreads, bool includeKernelStack)
    {
        var scanner = new MultiplexerWaitScanner { IncludeKernelStack = includeKernelStack };
        var pids = waits.Where(w => w.Diagnoses.Count > 0).Select(w => w.ProcessId).Distinct().ToList();
        var again = new List<MultiplexerWait>();
        foreach (int pid in pids)
        {
            try
            {
                again.AddRange(scanner.Scan(pid, includeAllThreads));
            }
            catch (ProcessUnreadableException)
            {
                // Gone since: its waits are confirmed by nothing.
            }
        }

        // Several waiters across these processes are seen again among them; the others were surveyed once only.
        (pids.Count > 1 ? SharedInstanceWaiters.Survey(pids) : SharedInstanceWaiters.None).Diagnose(again);
        DiagnosisConfirmation.ConfirmWaits(waits, again);
    }
}
