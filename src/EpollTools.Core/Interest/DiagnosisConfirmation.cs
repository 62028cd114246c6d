using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Interest;

/// <summary>
/// Diagnoses drawn from one look at a moving process are checked by a second look after a settle interval: a busy,
/// healthy server shows a wait on an instance with data ready, or a thread in a tracing stop under strace, for a
/// moment. A diagnosis stands only if the thread was still in the same call, had not run in between (its schedstat
/// unchanged), and the second look found the same condition.
/// </summary>
public static class DiagnosisConfirmation
{
    /// <summary>The settle interval the cmdlets wait by default, in milliseconds.</summary>
    public const int DefaultSettleMilliseconds = 200;

    /// <summary>
    /// Keeps on each wait of <paramref name="first"/> only the diagnoses confirmed by <paramref name="second"/>, the
    /// same threads read again after the interval: the same thread in the same call, not run since (where schedstat
    /// tells), with a diagnosis of the same kind. The second look's diagnosis is kept (its numbers are the newer).
    /// </summary>
    public static void ConfirmWaits(IReadOnlyList<MultiplexerWait> first, IEnumerable<MultiplexerWait> second)
    {
        var again = second.GroupBy(w => (w.ProcessId, w.ThreadId)).ToDictionary(g => g.Key, g => g.First());
        foreach (var wait in first)
        {
            if (wait.Diagnoses.Count == 0)
            {
                continue;
            }

            wait.Diagnoses = again.TryGetValue((wait.ProcessId, wait.ThreadId), out var later) && StillWaiting(wait, later)
                ? later.Diagnoses.Where(d => wait.Diagnoses.Any(earlier => earlier.Kind == d.Kind)).ToArray()
                : Array.Empty<Diagnosis>();
        }
    }

    /// <summary>The same call both times, and the thread did not run in between (when its schedstat can be read).</summary>
    public static bool StillWaiting(MultiplexerWait first, MultiplexerWait later)
        => first.Syscall is ThreadSyscall before && later.Syscall is ThreadSyscall after && before.SameCallAs(after)
            && first.RunStamp == later.RunStamp;
}

/// <summary>The confirmation of registration diagnoses (see <see cref="DiagnosisConfirmation"/>).</summary>
public static class RegistrationConfirmation
{
    /// <summary>
    /// The kinds drawn from what is ready at one moment (or from a hold seen then): a second look must find them
    /// again, with a thread blocked in the instance's wait all along. The others come from the interest list itself
    /// and stand as read.
    /// </summary>
    public static bool IsMomentary(DiagnosisKind kind) => kind is DiagnosisKind.EdgeTriggeredUnread or DiagnosisKind.WritersGone
        or DiagnosisKind.ReadersGone or DiagnosisKind.Stopped or DiagnosisKind.HeldByTracer or DiagnosisKind.Frozen
        or DiagnosisKind.UninterruptibleSleep or DiagnosisKind.Exiting;

    /// <summary>Whether any row has a diagnosis that needs a second look.</summary>
    public static bool NeedsConfirmation(IEnumerable<EpollInterest> rows) => rows.Any(r => r.Diagnoses.Any(d => IsMomentary(d.Kind)));

    /// <summary>
    /// Keeps on each row of <paramref name="first"/> the diagnoses that stand as read and, of the momentary ones,
    /// those that <paramref name="second"/> (the instance read again after the interval) shows on the same
    /// registration, when <paramref name="waiterStillBlocked"/>: a thread waited on the instance all along.
    /// </summary>
    public static void Confirm(IReadOnlyList<EpollInterest> first, IEnumerable<EpollInterest> second, bool waiterStillBlocked)
    {
        var again = second.GroupBy(r => (r.TargetFd, r.Offset, r.TargetInode)).ToDictionary(g => g.Key, g => g.First());
        foreach (var row in first)
        {
            if (!row.Diagnoses.Any(d => IsMomentary(d.Kind)))
            {
                continue;
            }

            var later = waiterStillBlocked && again.TryGetValue((row.TargetFd, row.Offset, row.TargetInode), out var match) && match.Events == row.Events ? match : null;
            row.Diagnoses = row.Diagnoses
                .Where(d => !IsMomentary(d.Kind) || later?.Diagnoses.Any(l => l.Kind == d.Kind) == true)
                .ToArray();
        }
    }
}
