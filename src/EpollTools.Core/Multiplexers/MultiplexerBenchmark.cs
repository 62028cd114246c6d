using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using EpollTools.Core.Native;

namespace EpollTools.Core.Multiplexers;

/// <summary>The readiness interfaces the benchmark compares.</summary>
public enum Multiplexer
{
    Select,
    Poll,
    Epoll,
}

/// <summary>One measurement: N watched fds of which K are ready, for one mechanism.</summary>
public sealed class MultiplexerMeasurement
{
    public Multiplexer Mechanism { get; init; }

    /// <summary>How many fds were watched.</summary>
    public int Watched { get; init; }

    /// <summary>How many of them were ready.</summary>
    public int Active { get; init; }

    /// <summary>Registering all N fds once: N epoll_ctl calls for epoll; filling the pollfd array or fd_set for poll and select.</summary>
    public double RegistrationMicroseconds { get; init; }

    /// <summary>The median cost of one wait call that returns the K ready fds (timeout 0).</summary>
    public double WaitMicroseconds { get; init; }

    /// <summary>The 10th and 90th percentiles of the wait cost: its spread over the repetitions.</summary>
    public double WaitP10Microseconds { get; init; }

    public double WaitP90Microseconds { get; init; }

    public int Repetitions { get; init; }

    /// <summary>How many fds each wait reported ready (it must equal Active).</summary>
    public int Reported { get; init; }

    public override string ToString() => $"{Mechanism} N={Watched} K={Active}: wait {WaitMicroseconds:0.0} us, registration {RegistrationMicroseconds:0.0} us";
}

/// <summary>N asked for is more than this process may open.</summary>
public sealed class FdLimitExceededException : Exception
{
    public FdLimitExceededException(int requested, int available, ulong limit)
        : base($"Measuring {requested} fds needs {requested} more open fds, but only {available} are left under this process's limit of {limit} (RLIMIT_NOFILE).")
    {
        Requested = requested;
        Available = available;
        Limit = limit;
    }

    public int Requested { get; }

    public int Available { get; }

    public ulong Limit { get; }
}

/// <summary>select can watch only fds below FD_SETSIZE.</summary>
public sealed class FdSetSizeExceededException : Exception
{
    public FdSetSizeExceededException(int highestFd)
        : base($"select cannot watch fd {highestFd}: an fd_set holds fds 0 to {SelectConstants.FD_SETSIZE - 1} only (FD_SETSIZE), and this run's fds go past it.")
        => HighestFd = highestFd;

    public int HighestFd { get; }
}

/// <summary>
/// Times select, poll and epoll on N eventfds of which K are readable: the cost of one wait (timeout 0, so only
/// the kernel's scanning is measured, never sleeping) and of registering the N fds.
/// </summary>
public static class MultiplexerBenchmark
{
    private const int FdMargin = 64; // left for the runtime and the engine while the fds are open

    /// <summary>RLIMIT_NOFILE (soft) and how many more fds this process may open now.</summary>
    public static (ulong Limit, int Available) FdBudget()
    {
        ulong limit = ThisProcess.OpenFileLimit ?? throw LinuxErrorException.FromLastError("getrlimit");
        // Not countable: there is no fd left to list them with, so none is available.
        long open = ThisProcess.OpenFdCount() ?? (long)Math.Min(limit, int.MaxValue);
        long available = (long)Math.Min(limit, int.MaxValue) - open - FdMargin;
        return (limit, (int)Math.Max(0, available));
    }

    /// <summary>
    /// Measures each mechanism for N watched and K active fds. Throws <see cref="FdLimitExceededException"/> before
    /// opening anything when N does not fit; reports select's FD_SETSIZE limit through <paramref name="onSelectRefused"/>.
    /// </summary>
    public static IEnumerable<MultiplexerMeasurement> Measure(int watched, int active, IReadOnlyCollection<Multiplexer> mechanisms, int repetitions,
        Action<FdSetSizeExceededException>? onSelectRefused = null)
    {
        if (watched < 1 || active < 0 || active > watched || repetitions < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(active), $"Need 1 <= N, 0 <= K <= N and at least one repetition (N={watched}, K={active}).");
        }

        var (limit, available) = FdBudget();
        if (watched > available)
        {
            throw new FdLimitExceededException(watched, available, limit);
        }

        var fds = new List<EventFd>(watched);
        try
        {
            for (int i = 0; i < watched; i++)
            {
                fds.Add(EventFd.Create(nonBlocking: true));
            }

            // Spread the ready fds over the whole range, so that no mechanism finds them all at the start.
            var ready = Enumerable.Range(0, active).Select(i => (int)((long)i * watched / Math.Max(active, 1))).ToHashSet();
            foreach (int index in ready)
            {
                fds[index].Signal(1);
            }

            int[] numbers = fds.Select(f => f.Fd).ToArray();
            var results = new List<MultiplexerMeasurement>();
            foreach (var mechanism in mechanisms)
            {
                if (mechanism == Multiplexer.Select && numbers.Max() >= SelectConstants.FD_SETSIZE)
                {
                    onSelectRefused?.Invoke(new FdSetSizeExceededException(numbers.Max()));
                    continue;
                }

                results.Add(mechanism switch
                {
                    Multiplexer.Epoll => MeasureEpoll(numbers, active, repetitions),
                    Multiplexer.Poll => MeasurePoll(numbers, active, repetitions),
                    _ => MeasureSelect(numbers, active, repetitions),
                });
            }

            return results;
        }
        finally
        {
            foreach (var fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    // The raw system calls, as for poll and select: the module's own bookkeeping (EpollInstance) is not what is compared here.
    private static unsafe MultiplexerMeasurement MeasureEpoll(int[] fds, int active, int repetitions)
    {
        int epfd = Check(NativeMethods.epoll_create1(EpollConstants.EPOLL_CLOEXEC), "epoll_create1");
        using var owner = new FileDescriptorHandle(epfd);
        var layout = EpollEventLayout.Current;
        byte* ev = stackalloc byte[layout.Size];
        long start = Stopwatch.GetTimestamp();
        foreach (int fd in fds)
        {
            layout.Write(new Span<byte>(ev, layout.Size), EpollEvents.In, (ulong)fd);
            Check(NativeMethods.epoll_ctl(epfd, EpollConstants.EPOLL_CTL_ADD, fd, ev), "epoll_ctl");
        }

        double registration = Microseconds(Stopwatch.GetTimestamp() - start);
        int maxEvents = Math.Max(active, 1);
        var buffer = new byte[maxEvents * layout.Size];
        int reported = 0;
        var samples = Sample(repetitions, () =>
        {
            fixed (byte* p = buffer)
            {
                reported = Check(NativeMethods.epoll_wait(epfd, p, maxEvents, 0), "epoll_wait");
            }
        });
        return Result(Multiplexer.Epoll, fds.Length, active, registration, samples, reported);
    }

    private static unsafe MultiplexerMeasurement MeasurePoll(int[] fds, int active, int repetitions)
    {
        long start = Stopwatch.GetTimestamp();
        var pollFds = new NativeMethods.PollFd[fds.Length];
        for (int i = 0; i < fds.Length; i++)
        {
            pollFds[i] = new NativeMethods.PollFd { Fd = fds[i], Events = PollConstants.POLLIN };
        }

        double registration = Microseconds(Stopwatch.GetTimestamp() - start);
        int reported = 0;
        var samples = Sample(repetitions, () =>
        {
            fixed (NativeMethods.PollFd* p = pollFds)
            {
                reported = Check(NativeMethods.poll(p, (nuint)pollFds.Length, 0), "poll");
            }
        });
        return Result(Multiplexer.Poll, fds.Length, active, registration, samples, reported);
    }

    private static unsafe MultiplexerMeasurement MeasureSelect(int[] fds, int active, int repetitions)
    {
        long start = Stopwatch.GetTimestamp();
        var template = new ulong[FdSet.Words];
        FdSet.Fill(template, fds);

        double registration = Microseconds(Stopwatch.GetTimestamp() - start);
        int highest = fds.Max() + 1;
        var set = new ulong[FdSet.Words];
        int reported = 0;

        // select overwrites its sets, so each call starts from a fresh copy: that copy is part of select's cost.
        var samples = Sample(repetitions, () =>
        {
            template.CopyTo(set, 0);
            var zero = new NativeMethods.TimeVal();
            fixed (ulong* p = set)
            {
                reported = Check(NativeMethods.select(highest, p, null, null, &zero), "select");
            }
        });
        return Result(Multiplexer.Select, fds.Length, active, registration, samples, reported);
    }

    private static double[] Sample(int repetitions, Action call)
    {
        call(); // once to warm up (JIT, caches)
        var samples = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            samples[i] = Microseconds(Stopwatch.GetTimestamp() - start);
        }

        Array.Sort(samples);
        return samples;
    }

    private static MultiplexerMeasurement Result(Multiplexer mechanism, int watched, int active, double registration, double[] sorted, int reported) => new()
    {
        Mechanism = mechanism,
        Watched = watched,
        Active = active,
        RegistrationMicroseconds = registration,
        WaitMicroseconds = Percentile(sorted, 0.5),
        WaitP10Microseconds = Percentile(sorted, 0.1),
        WaitP90Microseconds = Percentile(sorted, 0.9),
        Repetitions = sorted.Length,
        Reported = reported,
    };

    private static double Percentile(double[] sorted, double fraction) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(fraction * sorted.Length))];

    private static double Microseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static int Check(int rc, string call) => rc < 0 ? throw LinuxErrorException.FromLastError(call) : rc;
}
