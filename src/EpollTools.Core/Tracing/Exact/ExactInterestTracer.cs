using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// Turns the epoll calls of an exact trace into interest changes, as the processes make them: the interest lists read
/// from fdinfo when the trace starts, then every epoll_ctl (with its errno when it fails), every wait's return with
/// the events it delivered (each matched to its registration by its data, a one-shot disarmed at the delivery that
/// disarms it), instances created and closed, registered fds closed or dup2'd over without EPOLL_CTL_DEL. Knows
/// nothing of bpftrace: it is given the parsed records.
/// </summary>
public sealed partial class ExactInterestTracer
{
    private readonly Dictionary<(int Pid, int EpollFd), List<TracedRegistration>> _instances = new();
    private readonly Dictionary<int, string> _names = new();

    /// <summary>How many events each thread's last wait returned: its events come next, at most <see cref="EpollCallProgram.EventsPerWakeup"/>.</summary>
    private readonly Dictionary<int, long> _wakeups = new();

    private readonly Dictionary<int, int> _waitingAtStart = new();
    private readonly int? _onlyEpollFd;
    private readonly bool _follow;
    private readonly DateTime _wallAtStart;
    private readonly ulong _monotonicAtStart;

    /// <param name="onlyEpollFd">Report only this instance (-EpollFd); null for every instance of the processes.</param>
    /// <param name="follow">The program traces the children the processes fork (-Follow).</param>
    public ExactInterestTracer(int? onlyEpollFd, bool follow = false)
    {
        _onlyEpollFd = onlyEpollFd;
        _follow = follow;
        // The kernel's clock in the records is CLOCK_MONOTONIC, as Stopwatch's is here: wall time from one reading of both.
        _wallAtStart = DateTime.Now;
        _monotonicAtStart = TimeOrderedRecords.MonotonicNanoseconds();
    }

    /// <summary>How many instances are known (read at the start or created since).</summary>
    public int InstanceCount => _instances.Count;

    /// <summary>How many registrations they have now.</summary>
    public int RegistrationCount => _instances.Values.Sum(r => r.Count);

    /// <summary>The interest list of an instance as fdinfo shows it when the trace starts.</summary>
    public void Know(int pid, int epollFd)
    {
        var registrations = new List<TracedRegistration>();
        Parsing.ParsedFdInfo? info;
        try
        {
            info = FdFiles.ParseInfo(pid, epollFd);
        }
        catch (ProcessUnreadableException)
        {
            info = null; // gone, or not readable: its instance is known from the calls the trace sees
        }

        // Stale or current as Get-EpollInterest judges it: a registration whose fd was closed (or taken by another
        // file) is not named by that fd in its deliveries.
        var judge = info is null ? null : new Interest.RegistrationJudge(new Interest.InstanceHolder(pid, string.Empty, epollFd), info, Interest.RegistrationFileAccess.OfKernel);
        foreach (var line in info?.EpollTargets ?? new List<Parsing.EpollTargetLine>())
        {
            bool oneShotFired = (line.Events & EpollEvents.OneShot) != 0 && (line.Events & ~EpollEventGroups.PrivateBits) == 0;
            registrations.Add(new TracedRegistration { Fd = line.Tfd, Events = line.Events, Data = line.Data, Disarmed = oneShotFired, Stale = IsStale(judge!, pid, line) });
        }

        _instances[(pid, epollFd)] = registrations;
    }

    /// <summary>Whether a registration read at the start is stale; one that cannot be judged is taken as current.</summary>
    private static bool IsStale(Interest.RegistrationJudge judge, int pid, Parsing.EpollTargetLine line)
    {
        try
        {
            return judge.Judge(pid, line, FdFiles.ReadLink(pid, line.Tfd)).State == RegistrationState.Stale;
        }
        catch (ProcessUnreadableException)
        {
            return false; // gone or unreadable: judged by the calls the trace sees
        }
    }

    /// <summary>
    /// A thread in an epoll wait when the trace starts (as its syscall file says): its wait was entered before the
    /// probes, so its return comes without its arguments, and this says which instance it was on.
    /// </summary>
    public void KnowWaiting(int tid, int epollFd) => _waitingAtStart[tid] = epollFd;

    /// <summary>The changes one record makes (none for a call that changes nothing traced).</summary>
    public IEnumerable<EpollInterestChange> Apply(EpollCallRecord record) => record.Call switch
    {
        EpollCall.Ctl => Ctl(record),
        EpollCall.WaitReturn when record.CarriesFirstEvent => WaitReturn(record).Concat(Delivery(record)),
        EpollCall.WaitReturn => WaitReturn(record),
        EpollCall.Event => Delivery(record),
        EpollCall.EarlierWaitReturn => EarlierWaitReturn(record),
        EpollCall.Create => Created(record),
        EpollCall.Close when record.Result == 0 => Closed(record, record.Fd, "closed"),
        EpollCall.Dup when record.Result >= 0 && record.OldFd != record.Fd => Closed(record, record.Fd, $"dup2'd over (by fd {record.OldFd})"),
        EpollCall.Fork => Forked(record),
        EpollCall.Exit => Exited(record),
        _ => Array.Empty<EpollInterestChange>(),
    };

    private bool Reported(int epollFd) => _onlyEpollFd is null || _onlyEpollFd == epollFd;

    private IEnumerable<EpollInterestChange> Ctl(EpollCallRecord r)
    {
        string op = r.Op switch
        {
            EpollConstants.EPOLL_CTL_ADD => "EPOLL_CTL_ADD",
            EpollConstants.EPOLL_CTL_MOD => "EPOLL_CTL_MOD",
            EpollConstants.EPOLL_CTL_DEL => "EPOLL_CTL_DEL",
            _ => $"op {r.Op}",
        };
        var asked = (EpollEvents)r.Events;
        string passed = r.Op == EpollConstants.EPOLL_CTL_DEL ? string.Empty : " " + TracedRegistration.Describe(asked, r.Data);
        if (!Reported(r.EpollFd))
        {
            yield break;
        }

        if (r.Result < 0)
        {
            int errno = (int)-r.Result;
            yield return Change(r, InterestChangeKind.Failed, r.EpollFd, $"{op}{passed}: {ErrnoNames.NameOf(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})") with
            {
                TargetFd = r.Fd,
                Error = ErrnoNames.NameOf(errno),
            };
            yield break;
        }

        var list = ListOf(r.Pid, r.EpollFd);
        var before = TracedRegistration.Current(list, r.Fd);
        // The kernel adds ERR and HUP to every mask it stores (fs/eventpoll.c, do_epoll_ctl).
        var stored = asked | EpollEvents.Err | EpollEvents.Hup;
        switch (r.Op)
        {
            case EpollConstants.EPOLL_CTL_ADD:
                list.Add(new TracedRegistration { Fd = r.Fd, Events = stored, Data = r.Data });
                yield return Change(r, InterestChangeKind.Added, r.EpollFd, TracedRegistration.Describe(asked, r.Data)) with { TargetFd = r.Fd, Events = stored, Data = r.Data };
                break;
            case EpollConstants.EPOLL_CTL_MOD:
                var kind = before is { Disarmed: true } && (asked & ~EpollEventGroups.PrivateBits) != 0 ? InterestChangeKind.Rearmed : InterestChangeKind.Modified;
                var (oldEvents, oldData) = (before?.Events, before?.Data);
                if (before is null)
                {
                    before = new TracedRegistration { Fd = r.Fd };
                    list.Add(before);
                }

                (before.Events, before.Data, before.Disarmed) = (stored, r.Data, false);
                string was = oldEvents is EpollEvents old ? TracedRegistration.Describe(old, oldData!.Value) : "?";
                yield return Change(r, kind, r.EpollFd, $"{was} -> {TracedRegistration.Describe(asked, r.Data)}") with
                {
                    TargetFd = r.Fd, OldEvents = oldEvents, Events = stored, OldData = oldData, Data = r.Data,
                };
                break;
            case EpollConstants.EPOLL_CTL_DEL:
                if (before is not null)
                {
                    list.Remove(before);
                }

                yield return Change(r, InterestChangeKind.Removed, r.EpollFd, before is null ? op : TracedRegistration.Describe(before.Events, before.Data)) with { TargetFd = r.Fd, OldEvents = before?.Events, OldData = before?.Data };
                break;
        }
    }

    private IEnumerable<EpollInterestChange> WaitReturn(EpollCallRecord r)
    {
        _wakeups[r.Tid] = r.Result;
        if (!Reported(r.EpollFd))
        {
            yield break;
        }

        if (r.Result == 0)
        {
            yield return Change(r, InterestChangeKind.TimedOut, r.EpollFd, r.TimeoutSign == 0 ? "no event: a poll (zero timeout) found nothing ready" : "no event: the timeout passed") with { ThreadId = r.Tid };
        }
        else if (r.Result < 0)
        {
            int errno = (int)-r.Result;
            yield return Change(r, InterestChangeKind.Failed, r.EpollFd, $"wait: {ErrnoNames.NameOf(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})") with
            {
                ThreadId = r.Tid,
                Error = ErrnoNames.NameOf(errno),
            };
        }
    }

    /// <summary>The return of a wait entered before the trace: what it returned, but not which events (they were not read).</summary>
    private IEnumerable<EpollInterestChange> EarlierWaitReturn(EpollCallRecord r)
    {
        if (!_waitingAtStart.Remove(r.Tid, out int epollFd))
        {
            return Array.Empty<EpollInterestChange>(); // a thread not seen waiting at the start: its instance is not known
        }

        var placed = r with { EpollFd = epollFd };
        if (r.Result <= 0)
        {
            return WaitReturn(placed);
        }

        return Reported(epollFd)
            ? new[] { Change(placed, InterestChangeKind.Delivered, epollFd, $"{r.Result} event(s), not read: the wait began before the trace") with { ThreadId = r.Tid } }
            : Array.Empty<EpollInterestChange>();
    }

    private IEnumerable<EpollInterestChange> Delivery(EpollCallRecord r)
    {
        if (!Reported(r.EpollFd))
        {
            yield break;
        }

        var list = ListOf(r.Pid, r.EpollFd);
        var matches = list.Where(entry => entry.Data == r.Data).ToList();
        var delivered = (EpollEvents)r.Events;
        string whose = matches.Count switch
        {
            1 => matches[0].Stale ? $"; fd {matches[0].Fd} is closed: a stale registration" : string.Empty,
            0 => $"; data 0x{r.Data:x}: no registration this trace knows has it",
            _ => $"; data 0x{r.Data:x} is fds {string.Join(", ", matches.Select(m => m.Fd))}'s",
        };
        long count = _wakeups.TryGetValue(r.Tid, out long n) ? n : r.Index + 1;
        string cut = count > EpollCallProgram.EventsPerWakeup ? $"; only the first {EpollCallProgram.EventsPerWakeup} of a wakeup are read" : string.Empty;
        yield return Change(r, InterestChangeKind.Delivered, r.EpollFd, $"{EpollEventsText.ToShortString(delivered)}, event {r.Index + 1} of {count}{cut}{whose}") with
        {
            TargetFd = matches.Count == 1 ? matches[0].Fd : null,
            Events = delivered,
            Data = r.Data,
            ThreadId = r.Tid,
        };

        // The kernel disarms a one-shot as it delivers it (ep_send_events): only its flags stay.
        if (matches.Count == 1 && matches[0] is { Disarmed: false } registration && (registration.Events & EpollEvents.OneShot) != 0)
        {
            var before = registration.Events;
            registration.Events &= EpollEventGroups.PrivateBits;
            registration.Disarmed = true;
            yield return Change(r, InterestChangeKind.Disarmed, r.EpollFd, "one-shot fired: nothing more until EPOLL_CTL_MOD") with
            {
                TargetFd = registration.Fd, OldEvents = before, Events = registration.Events, Data = registration.Data, ThreadId = r.Tid,
            };
        }
    }

    private IEnumerable<EpollInterestChange> Created(EpollCallRecord r)
    {
        if (r.Result < 0)
        {
            int errno = (int)-r.Result;
            yield return Change(r, InterestChangeKind.Failed, -1, $"epoll_create1: {ErrnoNames.NameOf(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})") with { Error = ErrnoNames.NameOf(errno) };
            yield break;
        }

        int epollFd = (int)r.Result;
        _instances[(r.Pid, epollFd)] = new List<TracedRegistration>();
        if (Reported(epollFd))
        {
            yield return Change(r, InterestChangeKind.Created, epollFd, "epoll_create1");
        }
    }

    private List<TracedRegistration> ListOf(int pid, int epollFd)
    {
        if (!_instances.TryGetValue((pid, epollFd), out var list))
        {
            // An instance this trace did not see created nor read at the start (an fd received from another process).
            list = new List<TracedRegistration>();
            _instances[(pid, epollFd)] = list;
        }

        return list;
    }

    private EpollInterestChange Change(EpollCallRecord r, InterestChangeKind kind, int epollFd, string detail)
    {
        long sinceStart = (long)(r.Nanoseconds - _monotonicAtStart);
        return new EpollInterestChange
        {
            Time = _wallAtStart.AddTicks(sinceStart / 100),
            Elapsed = TimeSpan.FromTicks(sinceStart / 100),
            Change = kind,
            ProcessId = r.Pid,
            ProcessName = NameOf(r.Pid),
            EpollFd = epollFd,
            ThreadId = r.Tid,
            Detail = detail,
        };
    }

    private string NameOf(int pid)
    {
        if (!_names.TryGetValue(pid, out string? name))
        {
            name = ProcFs.ReadComm(pid) ?? "?";
            _names[pid] = name;
        }

        return name;
    }
}
