using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;

namespace EpollTools.Core.Proc;

/// <summary>
/// Finds the threads of a process that are blocked in a multiplexing wait, from /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall,
/// and decodes each call. Reads only: it never stops, attaches to or signals the process.
/// </summary>
public sealed class MultiplexerWaitScanner
{
    /// <summary>Fds named in <see cref="MultiplexerWait.WaitsOn"/> before "and N more".</summary>
    private const int FdsInSummary = 8;

    private readonly Architecture _architecture;

    public MultiplexerWaitScanner(Architecture? architecture = null) =>
        _architecture = architecture ?? RuntimeInformation.OSArchitecture;

    public TargetResolver Resolver { get; } = new();

    /// <summary>
    /// The waiting threads of <paramref name="pid"/> (every thread with <paramref name="includeAllThreads"/>). Throws
    /// <see cref="ProcessGoneException"/> and <see cref="ProcessAccessDeniedException"/>; threads that exit meanwhile
    /// are skipped.
    /// </summary>
    public List<MultiplexerWait> Scan(int pid, bool includeAllThreads)
    {
        string processName = ProcFs.ReadComm(pid) ?? throw new ProcessGoneException(pid);
        var threads = ProcFs.ListThreads(pid);
        bool compat = ProcFs.Is32BitProcess(pid) == true;
        var waits = new List<MultiplexerWait>();
        foreach (int tid in threads)
        {
            var wait = ScanThread(pid, processName, tid, compat, includeAllThreads);
            if (wait is not null)
            {
                waits.Add(wait);
            }
        }

        return waits;
    }

    private MultiplexerWait? ScanThread(int pid, string processName, int tid, bool compat, bool includeAllThreads)
    {
        // The call's arguments point into memory the thread reuses once it returns: read the call again after its
        // memory and keep the result only if the thread was in the same call all along (one retry).
        for (int attempt = 0; attempt < 2; attempt++)
        {
            string? text = ProcFs.ReadTaskFile(pid, tid, "syscall");
            var syscall = text is null ? null : TaskParser.ParseSyscall(text);
            if (syscall is null)
            {
                return null;
            }

            var call = syscall.Activity == SyscallActivity.InSyscall && !compat ? MultiplexerCallDecoder.Identify(_architecture, syscall.Number) : null;
            if (call is null)
            {
                return includeAllThreads ? Describe(pid, processName, tid, syscall, OtherCall(syscall, compat), null) : null;
            }

            var decoded = MultiplexerCallDecoder.Decode(call.Value, syscall.Arguments, (address, destination) => ProcFs.ReadMemory(pid, address, destination));
            string? again = ProcFs.ReadTaskFile(pid, tid, "syscall");
            var after = again is null ? null : TaskParser.ParseSyscall(again);
            if (after is not null && after.SameCallAs(syscall))
            {
                return Describe(pid, processName, tid, syscall, MultiplexerCallDecoder.KernelName(call.Value), (call.Value, decoded));
            }
        }

        return null; // in and out of waits faster than two reads: not stuck
    }

    private static string OtherCall(ThreadSyscall syscall, bool compat) => syscall.Activity switch
    {
        SyscallActivity.Running => "running",
        SyscallActivity.NotInSyscall => "not in a syscall",
        _ => compat
            ? $"syscall {syscall.Number.ToString(CultureInfo.InvariantCulture)} (32-bit)"
            : "syscall " + syscall.Number.ToString(CultureInfo.InvariantCulture),
    };

    /// <param name="wait">The multiplexing call and its decoded arguments; null for a thread in another call.</param>
    private MultiplexerWait Describe(int pid, string processName, int tid, ThreadSyscall syscall, string callName, (MultiplexerCall Call, DecodedCall Decoded)? wait)
    {
        var decoded = wait?.Decoded;
        char? state = TaskParser.ParseStatState(ProcFs.ReadTaskFile(pid, tid, "stat") ?? string.Empty);
        double? execStart = TaskParser.ParseExecStartMilliseconds(ProcFs.ReadTaskFile(pid, tid, "sched") ?? string.Empty);
        double now = ProcFs.MonotonicMilliseconds();
        string wchan = (ProcFs.ReadTaskFile(pid, tid, "wchan") ?? string.Empty).Trim();

        var fds = decoded?.Fds.Select(entry => DescribeFd(pid, entry.Fd, entry.Events)).ToArray() ?? Array.Empty<WaitedFd>();
        int? registrations = decoded?.EpollFd is int epollFd ? ProcFs.CountEpollRegistrations(pid, epollFd) : null;
        return new MultiplexerWait
        {
            ProcessId = pid,
            ProcessName = processName,
            ThreadId = tid,
            ThreadName = (ProcFs.ReadTaskFile(pid, tid, "comm") ?? string.Empty).TrimEnd('\n'),
            Call = callName,
            IsMultiplexerWait = wait is not null,
            SyscallNumber = syscall.Number,
            EpollFd = decoded?.EpollFd,
            MaxEvents = decoded?.MaxEvents,
            RegistrationCount = registrations,
            Nfds = decoded?.Nfds,
            Fds = fds,
            ReadFds = decoded?.ReadFds ?? Array.Empty<int>(),
            WriteFds = decoded?.WriteFds ?? Array.Empty<int>(),
            ExceptFds = decoded?.ExceptFds ?? Array.Empty<int>(),
            TimeoutMilliseconds = decoded?.TimeoutMilliseconds,
            Timeout = decoded?.Timeout ?? string.Empty,
            State = state is char letter ? TaskParser.DescribeState(letter) : string.Empty,
            WaitChannel = wchan == "0" ? string.Empty : wchan,
            WaitingFor = execStart is double start && now >= start ? TimeSpan.FromMilliseconds(now - start) : null,
            WaitsOn = wait is var (call, args) ? Summarize(call, args, registrations, fds) : string.Empty,
            Note = decoded?.Note,
        };
    }

    /// <summary>What an fd waited on is. An unreadable link throws (the process is reported), never read as "(closed)".</summary>
    private WaitedFd DescribeFd(int pid, int fd, int events)
    {
        var (kind, target) = Resolver.Resolve(pid, fd, ProcFs.ReadFdTarget(pid, fd));
        return new WaitedFd { Fd = fd, Events = EpollEventsText.ToShortString((EpollEvents)events), EventsValue = events, TargetKind = kind, Target = target };
    }

    private static string Summarize(MultiplexerCall call, DecodedCall decoded, int? registrations, WaitedFd[] fds)
    {
        switch (call)
        {
            case MultiplexerCall.EpollWait:
            case MultiplexerCall.EpollPwait:
            case MultiplexerCall.EpollPwait2:
                string count = registrations is int n ? $" ({n} registered)" : string.Empty;
                return $"epoll fd {decoded.EpollFd}{count}, up to {decoded.MaxEvents} events";

            case MultiplexerCall.Poll:
            case MultiplexerCall.Ppoll:
                return $"{Plural(fds.Length, "fd")}: {ListFds(fds)}";

            default:
                var sets = new List<string>();
                AddSet(sets, "read", decoded.ReadFds);
                AddSet(sets, "write", decoded.WriteFds);
                AddSet(sets, "except", decoded.ExceptFds);
                return $"nfds {decoded.Nfds}: " + (sets.Count == 0 ? "no fds" : string.Join("; ", sets));
        }
    }

    private static void AddSet(List<string> sets, string name, int[] fds)
    {
        if (fds.Length > 0)
        {
            string shown = string.Join(",", fds.Take(FdsInSummary));
            sets.Add($"{name} {shown}{(fds.Length > FdsInSummary ? $" and {fds.Length - FdsInSummary} more" : string.Empty)}");
        }
    }

    private static string ListFds(WaitedFd[] fds)
    {
        string shown = string.Join(", ", fds.Take(FdsInSummary).Select(f => $"{f.Fd} {f.Events}"));
        return fds.Length > FdsInSummary ? $"{shown} and {fds.Length - FdsInSummary} more" : shown;
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
