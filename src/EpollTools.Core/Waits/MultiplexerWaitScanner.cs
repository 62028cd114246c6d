using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using EpollTools.Core.Interest;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;

namespace EpollTools.Core.Waits;

/// <summary>
/// Finds the threads of a process that are blocked in a multiplexing wait, from /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall,
/// and decodes each call. Reads only: it never stops, attaches to or signals the process.
/// </summary>
public sealed class MultiplexerWaitScanner
{
    /// <summary>Fds named in <see cref="MultiplexerWait.WaitsOn"/> before "and N more".</summary>
    private const int FdsInSummary = 8;

    private readonly Architecture _architecture;

    /// <summary>
    /// Per epoll fd met in this scan: how many registrations it has, and how many when all are stale. Read once per
    /// instance, not once per thread: a pool of 1,000 threads on one instance would read its fdinfo 2,000 times.
    /// </summary>
    private readonly Dictionary<(int Pid, int EpollFd), (int? Registrations, int? AllStale)> _instances = new();

    /// <summary>The scheduler's clock per CPU, measured once per scan.</summary>
    private readonly SchedulerClock _clock = new();

    public MultiplexerWaitScanner(Architecture? architecture = null) =>
        _architecture = architecture ?? RuntimeInformation.OSArchitecture;

    public TargetResolver Resolver { get; } = new();

    /// <summary>Read each listed thread's kernel stack (/proc/&lt;pid&gt;/task/&lt;tid&gt;/stack: root only) as evidence.</summary>
    public bool IncludeKernelStack { get; init; }

    /// <summary>
    /// The waiting threads of <paramref name="pid"/> (every thread with <paramref name="includeAllThreads"/>). Throws
    /// <see cref="ProcessGoneException"/> and <see cref="ProcessAccessDeniedException"/>; threads that exit meanwhile
    /// are skipped.
    /// </summary>
    public List<MultiplexerWait> Scan(int pid, bool includeAllThreads)
    {
        string processName = ProcFs.ReadComm(pid) ?? throw new ProcessGoneException(pid);
        var threads = TaskFiles.ListThreads(pid);
        var abi = SyscallAbis.OfProcess(pid) ?? SyscallAbis.OfMachine(_architecture);
        // A kernel thread makes no system call: its syscall file reads "0 0x0 ...", which would look like read(2).
        bool kernelThread = ProcessCondition.IsKernelThread(pid);
        var waits = new List<MultiplexerWait>();
        foreach (int tid in threads)
        {
            var wait = kernelThread
                ? includeAllThreads ? Describe(pid, processName, tid, abi, ThreadSyscall.Running with { Activity = SyscallActivity.NotInSyscall }, KernelThreadCall, null, null) : null
                : ScanThread(pid, processName, tid, abi, includeAllThreads);
            if (wait is not null)
            {
                waits.Add(wait);
            }
        }

        return waits;
    }

    private MultiplexerWait? ScanThread(int pid, string processName, int tid, SyscallAbi abi, bool includeAllThreads)
    {
        // The call's arguments point into memory the thread reuses once it returns: read the call again after its
        // memory and keep the result only if the thread was in the same call all along (one retry). The same call
        // line twice does not prove that: a loop may make the next call from the same site with the same pointers
        // and other contents. So the thread must also not have run in between: its schedstat (time on a CPU, and
        // how many times it was put on one) is read before and after, and must not change.
        for (int attempt = 0; attempt < 2; attempt++)
        {
            string? ranBefore = TaskFiles.Read(pid, tid, "schedstat");
            string? text = TaskFiles.Read(pid, tid, "syscall");
            var syscall = text is null ? null : TaskParser.ParseSyscall(text);
            if (syscall is null)
            {
                return null;
            }

            var call = syscall.Activity == SyscallActivity.InSyscall ? MultiplexerCallDecoder.Identify(abi, syscall.Number) : null;
            if (call is null)
            {
                return includeAllThreads ? Describe(pid, processName, tid, abi, syscall, OtherCall(syscall, abi), null, ranBefore) : null;
            }

            var decoded = MultiplexerCallDecoder.Decode(call.Value, syscall.Arguments, (address, destination) => ProcessMemory.Read(pid, address, destination));
            string? again = TaskFiles.Read(pid, tid, "syscall");
            var after = again is null ? null : TaskParser.ParseSyscall(again);
            if (after is not null && after.SameCallAs(syscall) && TaskFiles.Read(pid, tid, "schedstat") == ranBefore)
            {
                return Describe(pid, processName, tid, abi, syscall, call.Value.Name, (call.Value.Call, decoded), ranBefore);
            }
        }

        return null; // in and out of waits faster than two reads: not stuck
    }

    /// <summary>What Call says of a kernel thread.</summary>
    public const string KernelThreadCall = "kernel thread";

    /// <summary>
    /// What a thread outside the multiplexing calls is doing: the call by name where the table knows it (x86-64), else
    /// by number, with the table named when it is not the machine's own (its numbers mean other calls).
    /// </summary>
    private string OtherCall(ThreadSyscall syscall, SyscallAbi abi) => syscall.Activity switch
    {
        SyscallActivity.Running => "running",
        SyscallActivity.NotInSyscall => "not in a syscall",
        _ when abi == SyscallAbi.X64 && X64SyscallNames.Of(syscall.Number) is string name => name,
        _ when abi == SyscallAbi.I386 => $"syscall {syscall.Number.ToString(CultureInfo.InvariantCulture)} (i386)",
        _ when abi != SyscallAbis.OfMachine(_architecture) => $"syscall {syscall.Number.ToString(CultureInfo.InvariantCulture)} (32-bit)",
        _ => "syscall " + syscall.Number.ToString(CultureInfo.InvariantCulture),
    };

    /// <param name="wait">The multiplexing call and its decoded arguments; null for a thread in another call.</param>
    /// <returns>Null when the thread exited while it was read: it is skipped, as a process that exits is.</returns>
    /// <param name="runStamp">The thread's schedstat as it was read (<see cref="MultiplexerWait.RunStamp"/>).</param>
    private MultiplexerWait? Describe(int pid, string processName, int tid, SyscallAbi abi, ThreadSyscall syscall, string callName, (MultiplexerCall Call, DecodedCall Decoded)? wait, string? runStamp)
    {
        var decoded = wait?.Decoded;
        string? stat = TaskFiles.Read(pid, tid, "stat");
        string? threadName = TaskFiles.Read(pid, tid, "comm")?.TrimEnd('\n');
        if (stat is null || threadName is null || ThreadCondition.Read(pid, tid, stat) is not ThreadCondition condition)
        {
            return null;
        }

        double? execStart = TaskParser.ParseExecStartMilliseconds(TaskFiles.Read(pid, tid, "sched") ?? string.Empty);
        // exec_start is in the task clock of the CPU the thread last ran on, not in CLOCK_MONOTONIC (see SchedulerClock).
        double? now = TaskParser.ParseStatProcessor(stat) is int cpu ? _clock.NowOn(cpu) : null;
        var hold = condition.Diagnose($"Thread {tid} ({threadName})", callName);

        var fds = decoded?.Fds.Select(entry => DescribeFd(pid, entry.Fd, entry.Events)).ToArray() ?? Array.Empty<WaitedFd>();
        var instance = decoded?.EpollFd is int epollFd ? Instance(pid, epollFd) : default;
        int? registrations = instance.Registrations;
        return new MultiplexerWait
        {
            Diagnoses = (hold is null ? Array.Empty<Diagnosis>() : new[] { hold })
                .Concat(decoded?.EpollFd is int waitedOn ? DiagnoseInstance(pid, waitedOn, instance, decoded.Timeout) : Array.Empty<Diagnosis>()).ToArray(),
            ProcessId = pid,
            ProcessName = processName,
            ThreadId = tid,
            ThreadName = threadName,
            Call = callName,
            IsMultiplexerWait = wait is not null,
            SyscallNumber = syscall.Number,
            Abi = abi,
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
            State = condition.StateText,
            Hold = condition.Hold,
            TracerPid = condition.TracerPid,
            TracerName = condition.TracerName,
            KernelStack = IncludeKernelStack ? ReadKernelStack(pid, tid) : null,
            WaitChannel = condition.WaitChannel,
            WaitingFor = execStart is double start && now is double at && at >= start ? TimeSpan.FromMilliseconds(at - start) : null,
            WaitsOn = wait is var (call, args) ? Summarize(call, args, registrations, fds) : string.Empty,
            Note = decoded?.Note,
            Syscall = syscall,
            RunStamp = runStamp,
        };
    }

    /// <summary>
    /// The thread's kernel stack, one function a line ("do_signal_stop+0x16f/0x210"), innermost first; empty when it
    /// may not be read (it needs root: CAP_SYS_ADMIN) or the thread is gone.
    /// </summary>
    private static string[] ReadKernelStack(int pid, int tid)
    {
        string? text;
        try
        {
            text = TaskFiles.Read(pid, tid, "stack");
        }
        catch (ProcessAccessDeniedException)
        {
            return Array.Empty<string>();
        }

        // "[<0>] do_signal_stop+0x16f/0x210": the address is hidden (0) from all but the kernel's own tools.
        return (text ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.IndexOf("] ", StringComparison.Ordinal) is int close and >= 0 ? line[(close + 2)..] : line)
            .ToArray();
    }

    private (int? Registrations, int? AllStale) Instance(int pid, int epollFd)
    {
        if (!_instances.TryGetValue((pid, epollFd), out var instance))
        {
            // One read of the interest list serves both counts.
            var info = ReadInterestList(pid, epollFd);
            int? registrations = info?.EpollTargets.Count;
            instance = (registrations, registrations > 0 ? RegistrationJudge.CountIfAllStale(pid, epollFd, info!) : null);
            _instances[(pid, epollFd)] = instance;
        }

        return instance;
    }

    private static ParsedFdInfo? ReadInterestList(int pid, int epollFd)
    {
        try
        {
            return FdFiles.ParseInfo(pid, epollFd);
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    /// <summary>An epoll wait on an instance that cannot wake it for any fd of the process: empty, or all stale.</summary>
    private static Diagnosis[] DiagnoseInstance(int pid, int epollFd, (int? Registrations, int? AllStale) instance, string timeout)
    {
        if (instance.Registrations == 0)
        {
            return new[]
            {
                new Diagnosis
                {
                    Kind = DiagnosisKind.EmptyInterestList,
                    Summary = "nothing registered",
                    Explanation = $"epoll fd {epollFd} has an empty interest list: no fd can wake this thread; only its timeout ({timeout}) or a signal ends the wait. Usually the program waits before registering, or removed (or closed) everything it watched.",
                },
            };
        }

        if (instance.AllStale is int stale)
        {
            return new[]
            {
                new Diagnosis
                {
                    Kind = DiagnosisKind.AllRegistrationsStale,
                    Summary = "all registrations stale",
                    Explanation = $"Every fd registered in epoll fd {epollFd} ({Plural(stale, "registration")}) has since been closed or reused in this process, while the files live on elsewhere (a dup, a child, an fd passed away). Events may still come, with data for fds the program no longer has; nothing it still owns can wake it. Get-EpollInterest -Id {pid} -EpollFd {epollFd} shows each.",
                },
            };
        }

        return Array.Empty<Diagnosis>();
    }

    /// <summary>What an fd waited on is. An unreadable link throws (the process is reported), never read as "(closed)".</summary>
    private WaitedFd DescribeFd(int pid, int fd, int events)
    {
        var (kind, target) = Resolver.Resolve(pid, fd, FdFiles.ReadLink(pid, fd));
        return new WaitedFd { Fd = fd, Events = EpollEventsText.ToShortString((EpollEvents)events), EventsValue = events, TargetKind = kind, Target = target };
    }

    private static string Summarize(MultiplexerCall call, DecodedCall decoded, int? registrations, WaitedFd[] fds)
    {
        switch (call)
        {
            case MultiplexerCall.EpollWait:
            case MultiplexerCall.EpollPwait:
            case MultiplexerCall.EpollPwait2:
                // maxevents stays in its own property: the line is kept short enough for the view's last column.
                string count = registrations is int n ? $" ({n} registered)" : string.Empty;
                return $"epoll fd {decoded.EpollFd}{count}";

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
