using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using System.Threading;
using EpollTools.Core;
using EpollTools.Core.Multiplexers;
using EpollTools.Core.ProcFiles;
using EpollTools.Tests;

namespace EpollTools.Bench;

/// <summary>
/// Measures EpollTools against baselines in the same run and prints each figure as a ratio: the C# core against
/// the same loop in C, the cmdlets against C and Python, Get-EpollInterest against reading fdinfo and lsfd.
/// Each time is the best of several runs, to keep other load on the machine out of the figures.
/// </summary>
internal static class Program
{
    private const int Runs = 5;
    private const int CoreRuns = 10;

    /// <summary>The budget for the first object of a scan: 50 ms, whatever the number of registrations (an operator sees rows at once).</summary>
    private const double FirstObjectBudget = 50;

    /// <summary>The budget per registration: 10 us, at 10,000 and at 100,000 (section 5).</summary>
    private const double PerRegistrationBudget = 10;

    private static readonly string Root = RepoPaths.Root;
    private static readonly string Work = Path.Combine(Path.GetTempPath(), "epolltools-bench-" + Environment.ProcessId);

    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        Directory.CreateDirectory(Work);
        try
        {
            PrintMachine();
            string ops = Compile("epoll-ops", shared: false, Path.Combine("bench", "c", "epoll-ops.c"), Path.Combine("bench", "c", "epoll-loops.c"));
            var loops = new CLoops(Compile("libepoll-loops.so", shared: true, Path.Combine("bench", "c", "epoll-loops.c")));
            string holder = Compile("epoll-holder", shared: false, Path.Combine("tests", "fixtures", "epoll-holder.c"));
            using var runspace = OpenRunspace();
            var report = new Report();
            // Sections to run: all by default, or the numbers given (e.g. "1 3").
            var only = args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToHashSet();
            bool Wanted(int section) => only.Count == 0 || only.Contains(section);
            if (Wanted(1)) CoreOperations(report, ops, loops);
            if (Wanted(2)) BatchRegistration(report, ops, runspace);
            if (Wanted(2)) WaitOverhead(report, runspace);
            if (Wanted(3)) InterestOfOneProcess(report, holder, runspace);
            if (Wanted(4)) InterestOfTheHost(report, holder, runspace);
            if (Wanted(5)) Growth(report, holder, runspace);
            if (Wanted(7)) MemoryOfScans(report, holder);
            if (Wanted(6)) WaitingThreads(report, Compile("thread-waiters", shared: false, Path.Combine("bench", "c", "thread-waiters.c")), runspace);
            if (Wanted(8)) MetricsExport(report, holder, runspace);
            if (Wanted(9)) TracingCost(report, Compile("epoll-pingpong", shared: false, Path.Combine("bench", "c", "epoll-pingpong.c")), runspace);
            report.PrintSummary();
            return 0;
        }
        finally
        {
            Directory.Delete(Work, recursive: true);
        }
    }

    // 1. The C# core's epoll operations against the same loop in C: as a program of its own, and called in this process.
    private static void CoreOperations(Report report, string ops, CLoops loops)
    {
        const int iterations = 100_000;
        Console.WriteLine($"\n1. Core epoll operations: ADD, MOD, wait on a ready eventfd (timeout 0), DEL; {iterations:N0} iterations, best of {CoreRuns} interleaved runs");
        using var instance = EpollInstance.Create();
        using var efd = EventFd.Create(initialValue: 1);
        using var cInstance = EpollInstance.Create();
        var best = BestInterleaved(
            () => double.Parse(Run(ops, $"ops {iterations}").Trim(), CultureInfo.InvariantCulture),
            () => double.Parse(Run(ops, $"ops {iterations} threaded").Trim(), CultureInfo.InvariantCulture),
            () => loops.Ops(cInstance.Fd, efd.Fd, iterations),
            () =>
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < iterations; i++)
                {
                    instance.Add(efd.Fd, EpollEvents.In, (ulong)efd.Fd);
                    instance.Modify(efd.Fd, EpollEvents.In | EpollEvents.Out, (ulong)efd.Fd);
                    if (instance.Wait(4, 0).Count != 1)
                    {
                        throw new InvalidOperationException("the eventfd was not reported");
                    }

                    instance.Remove(efd.Fd);
                }

                return clock.Elapsed.TotalMilliseconds * 1e6 / iterations;
            });
        double cProgram = best[0], cThreaded = best[1], cHere = best[2], ours = best[3];
        report.Ratio("core ADD+MOD+wait+DEL per iteration", ours, cHere, "ns", "the C loop called in this process", target: 1.2);
        report.Ratio("core ADD+MOD+wait+DEL per iteration", ours, cThreaded, "ns", "the C loop as a program with a second, idle thread", target: null);
        report.Ratio("core ADD+MOD+wait+DEL per iteration", ours, cProgram, "ns", "the C loop as a single-threaded program", target: null);
        Console.WriteLine($"   (a second, idle thread alone makes the C program {cThreaded / cProgram:0.00}x slower: with a shared fd table the kernel counts a reference");
        Console.WriteLine($"    on the file at every fd lookup; every .NET process has several threads. In this process the C loop costs {cHere / cProgram:0.00}x.)");
    }

    // 2a. One Add-EpollFd call registering N fds against the C loop.
    private static void BatchRegistration(Report report, string ops, Runspace runspace)
    {
        Console.WriteLine("\n2. Registering N fds with one Add-EpollFd call, against epoll_ctl(ADD) in a C loop");
        var (limit, available) = EpollTools.Core.Multiplexers.MultiplexerBenchmark.FdBudget();
        foreach (int n in new[] { 1_000, 10_000, Math.Min(19_000, available - 100) })
        {
            double c = Best(() => double.Parse(Run(ops, $"add {n}").Trim(), CultureInfo.InvariantCulture));
            var fds = Enumerable.Range(0, n).Select(_ => EventFd.Create()).ToList();
            try
            {
                double ours = Best(() =>
                {
                    using var instance = EpollInstance.Create();
                    int[] numbers = fds.Select(f => f.Fd).ToArray();
                    var clock = Stopwatch.StartNew();
                    Invoke(runspace, ps => ps.AddCommand("Add-EpollFd").AddParameter("Instance", instance).AddParameter("Fd", numbers));
                    double perFd = clock.Elapsed.TotalMilliseconds * 1e6 / n;
                    if (instance.RegistrationCount != n)
                    {
                        throw new InvalidOperationException("not every fd was registered");
                    }

                    return perFd;
                });
                report.Ratio($"Add-EpollFd, {n:N0} fds in one call, per fd", ours, c, "ns", "C", target: 3.0);
            }
            finally
            {
                fds.ForEach(f => f.Dispose());
            }
        }

        Console.WriteLine($"   (100,000 fds cannot be opened here: the open-file limit is {limit}.)");
    }

    // 2b. The cost of one Wait-Epoll call against one epoll.poll() call in Python.
    private static void WaitOverhead(Report report, Runspace runspace)
    {
        const int calls = 20_000;
        Console.WriteLine($"\n2b. One wait on an instance with one ready eventfd (timeout 0), {calls:N0} calls");
        string? python = Which("python3");
        double py = double.NaN;
        if (python is not null)
        {
            string script = "import select, os, time\nep = select.epoll()\nfd = os.eventfd(1)\nep.register(fd, select.EPOLLIN)\n" +
                $"best = None\nfor run in range({Runs}):\n    t = time.perf_counter_ns()\n    for i in range({calls}):\n        ep.poll(0)\n" +
                $"    d = (time.perf_counter_ns() - t) / {calls}\n    best = d if best is None or d < best else best\nprint(best)\n";
            string file = Path.Combine(Work, "wait.py");
            File.WriteAllText(file, script);
            py = double.Parse(Run(python, file).Trim(), CultureInfo.InvariantCulture);
        }

        using var instance = EpollInstance.Create();
        using var efd = EventFd.Create(initialValue: 1);
        instance.Add(efd.Fd, EpollEvents.In, 1);
        double core = Best(() =>
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++)
            {
                instance.Wait(4, 0);
            }

            return clock.Elapsed.TotalMilliseconds * 1e6 / calls;
        });
        double cmdlet = Best(() =>
        {
            var clock = Stopwatch.StartNew();
            Invoke(runspace, ps => ps.AddScript($"param($ep) for ($i = 0; $i -lt {calls}; $i++) {{ $null = Wait-Epoll -Instance $ep -Timeout 0 }}").AddArgument(instance));
            return clock.Elapsed.TotalMilliseconds * 1e6 / calls;
        });
        if (python is null)
        {
            Console.WriteLine("   python3 not found: the Python comparison is skipped.");
            return;
        }

        report.Ratio("core EpollInstance.Wait per call", core, py, "ns", "Python epoll.poll", target: null);
        report.Ratio("Wait-Epoll cmdlet per call (a PowerShell loop)", cmdlet, py, "ns", "Python epoll.poll", target: null);
    }

    // 3. Get-EpollInterest -Id on one epoll instance with N registrations, against reading its fdinfo (the floor) and lsfd -p.
    private static void InterestOfOneProcess(Report report, string holderExe, Runspace runspace)
    {
        Console.WriteLine("\n3. Get-EpollInterest -Id on one epoll instance with N registrations");
        foreach (var shape in new[] { HolderShape.OneProcess(10_000), HolderShape.OneProcess(19_000), HolderShape.Workers(100_000), HolderShape.Workers(100_000, "sockets") })
        {
            using var holder = Holder.Start(holderExe, shape);
            Console.WriteLine($"   {shape}:");
            string fdinfo = $"/proc/{holder.Pid}/fdinfo/{holder.EpollFd}";
            double floor = Best(() => Time(() => File.ReadAllText(fdinfo)));

            Collection<PSObject> Interest() => Invoke(runspace, ps => ps.AddCommand("Get-EpollInterest").AddParameter("Id", holder.AllPids).AddParameter("EpollFd", holder.EpollFd));
            int count = 0;
            double ours = Best(() => Time(() => count = Interest().Count));
            if (count != shape.Registrations)
            {
                throw new InvalidOperationException($"Get-EpollInterest found {count} registrations, not {shape.Registrations}");
            }

            // What resolving every target needs from the kernel at the least: its link, and its own fdinfo, read in
            // the process whose fd it is (found by Get-EpollInterest; the floor is not charged for finding it).
            var targets = Interest().Select(o => ((int)o.Properties["TargetProcessId"].Value, (int)o.Properties["TargetFd"].Value)).ToArray();
            double resolutionFloor = Best(() => Time(() =>
            {
                File.ReadAllText(fdinfo);
                foreach (var (pid, fd) in targets)
                {
                    EpollTools.Core.ProcFiles.FdFiles.ReadLink(pid, fd);
                    EpollTools.Core.ProcFiles.FdFiles.ReadInfo(pid, fd);
                }
            }));
            // The floor set for the default view: fdinfo, and one readlink per target (a pipe or socket is
            // named by its link; sockets then take one read of the net tables, charged to us).
            double linkFloor = Best(() => Time(() =>
            {
                File.ReadAllText(fdinfo);
                foreach (var (pid, fd) in targets)
                {
                    EpollTools.Core.ProcFiles.FdFiles.ReadLink(pid, fd);
                }
            }));
            int cheapCount = 0;
            double cheap = Best(() => Time(() => cheapCount = Invoke(runspace, ps => ps.AddCommand("Get-EpollInterest").AddParameter("Id", holder.AllPids).AddParameter("EpollFd", holder.EpollFd).AddParameter("NoResolve")).Count));
            if (cheapCount != shape.Registrations)
            {
                throw new InvalidOperationException($"Get-EpollInterest -NoResolve found {cheapCount} registrations, not {shape.Registrations}");
            }

            double cat = Best(() => Time(() => Run("cat", fdinfo)));
            double lsfd = Best(() => Time(() => Run("lsfd", $"-p \"{string.Join(' ', holder.AllPids)}\"")));
            double first = Best(() => TimeToFirstObject(runspace, ps => ps.AddCommand("Get-EpollInterest").AddParameter("Id", holder.AllPids).AddParameter("EpollFd", holder.EpollFd)));

            string label = $"Get-EpollInterest, {shape.Registrations:N0} registrations";
            report.Ratio(label, ours, floor, "ms", "reading fdinfo (the kernel's floor)", target: 1.5);
            if (shape.WorkerCount == 0)
            {
                // An eventfd is described by its own fdinfo (its count): the floor is its link and its fdinfo.
                report.Ratio(label, ours, resolutionFloor, "ms", "fdinfo + each target's link and fdinfo (the floor with targets resolved)", target: 1.5);
                report.Ratio(label, ours, linkFloor, "ms", "fdinfo + one readlink per target", target: null);
            }
            else if (!shape.Pipes)
            {
                // A socket is named from its link and the namespace's net tables (one read, charged to us).
                report.Ratio(label, ours, resolutionFloor, "ms", "fdinfo + each target's link and fdinfo (the floor with targets resolved)", target: null);
                report.Ratio(label, ours, linkFloor, "ms", "fdinfo + one readlink per target", target: 1.5);
            }
            else
            {
                // A pipe is named with the processes on its other end: the kernel keeps no map from a pipe to its
                // holders, so that takes the link of every fd (both ends) and the mode of each pipe fd (which end).
                double peerFloor = Best(() => Time(() =>
                {
                    File.ReadAllText(fdinfo);
                    foreach (int pid in holder.AllPids)
                    {
                        foreach (var (fd, link) in EpollTools.Core.ProcFiles.FdFiles.List(pid))
                        {
                            if (link.StartsWith("pipe:", StringComparison.Ordinal))
                            {
                                EpollTools.Core.ProcFiles.FileIdentity.StatFd(pid, fd, link: true);
                            }
                        }
                    }
                }));
                report.Ratio(label, ours, resolutionFloor, "ms", "fdinfo + each target's link and fdinfo (the floor with targets resolved)", target: null);
                report.Ratio(label, ours, linkFloor, "ms", "fdinfo + one readlink per target", target: 1.5);
                report.Ratio(label, ours, peerFloor, "ms", "fdinfo + the link of every fd of the holders and the mode of each pipe fd (naming pipes' other ends), one thread", target: null);
            }

            report.Ratio($"Get-EpollInterest -NoResolve, {shape.Registrations:N0} registrations", cheap, floor, "ms", "reading fdinfo (the kernel's floor)", target: 2.0);
            report.Ratio(label, ours, lsfd, "ms", shape.WorkerCount > 0 ? "lsfd -p <the holder and its workers>" : "lsfd -p", target: 1.0);
            report.Ratio($"Get-EpollInterest, {shape.Registrations:N0} registrations: first object", first, FirstObjectBudget, "ms", "the 50 ms budget", target: 1.0);
            Console.WriteLine($"   (cat {fdinfo}: {cat:0.0} ms, of which most is starting cat; reading it here, {floor:0.0} ms, is before any first object)");
        }
    }

    // 4. Get-EpollInterest -All against lsfd over the whole host: as it is, then with 100 processes holding 100,000 registrations in all.
    private static void InterestOfTheHost(Report report, string holderExe, Runspace runspace)
    {
        Console.WriteLine("\n4. The whole host: Get-EpollInterest -All against lsfd (all processes)");
        HostScan(report, runspace, "as it is");
        var shape = HolderShape.Processes(100_000, 100);
        using var holder = Holder.Start(holderExe, shape);
        HostScan(report, runspace, shape.ToString());
    }

    private static void HostScan(Report report, Runspace runspace, string host)
    {
        int processes = Directory.GetDirectories("/proc").Count(d => int.TryParse(Path.GetFileName(d), out _));
        Console.WriteLine($"   {host}:");
        void All(PowerShell ps) => ps.AddCommand("Get-EpollInterest").AddParameter("All").AddParameter("WarningAction", "SilentlyContinue");
        double lsfd = Best(() => Time(() => Run("lsfd", string.Empty)));
        int count = 0;
        double ours = Best(() => Time(() => count = Invoke(runspace, All).Count));
        double first = Best(() => TimeToFirstObject(runspace, All));
        report.Ratio($"Get-EpollInterest -All, {processes} processes, {count:N0} registrations", ours, lsfd, "ms", "lsfd", target: 1.0);
        report.Ratio($"Get-EpollInterest -All, {processes} processes: first object", first, FirstObjectBudget, "ms", "the 50 ms budget", target: 1.0);
    }

    // 5. How the cost grows with the work: per registration it should stay flat, and memory bounded.
    private static void Growth(Report report, string holderExe, Runspace runspace)
    {
        Console.WriteLine("\n5. Growth: Get-EpollInterest per registration and memory, by N (streamed into a counter)");
        Console.WriteLine("   One shape for every N (pipes registered by forked workers sharing the instance), so that only N changes.");
        double? first = null;
        foreach (int n in new[] { 1_000, 10_000, 100_000 })
        {
            using var holder = Holder.Start(holderExe, HolderShape.Workers(n));
            GC.Collect();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            double ms = Best(() => Time(() => Invoke(runspace, ps => ps.AddScript("param($p, $e) $n = 0; Get-EpollInterest -Id $p -EpollFd $e | ForEach-Object { $n++ }; $n").AddArgument(holder.AllPids).AddArgument(holder.EpollFd))));
            double allocatedPer = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)(Runs + 1) / n;
            double perRegistration = ms * 1000 / n;
            first ??= perRegistration;
            Console.WriteLine($"   N={n,7:N0}: {perRegistration,6:0.00} us per registration ({perRegistration / first.Value:0.00}x of N=1,000), " +
                $"{allocatedPer / 1024:0.0} KiB allocated per registration, peak working set so far {PeakWorkingSet() / (1 << 20)} MiB");
            if (n >= 10_000)
            {
                report.Ratio($"Get-EpollInterest per registration, N={n:N0}", perRegistration, PerRegistrationBudget, "us", "the 10 us budget", target: 1.0);
            }
        }
    }

    // 7. Memory: a separate pwsh scans 100,000 registrations; its resident set's peak above the same process idle.
    private static void MemoryOfScans(Report report, string holderExe)
    {
        Console.WriteLine("\n7. Memory: peak resident set of a separate pwsh above itself idle, scanning 100,000 registrations (streamed into a counter)");
        foreach (var shape in new[] { HolderShape.Workers(100_000), HolderShape.Workers(100_000, "sockets"), HolderShape.Processes(100_000, 100) })
        {
            using var holder = Holder.Start(holderExe, shape);
            Console.WriteLine($"   {shape}:");
            foreach (string switches in shape.Separate ? new[] { " -All" } : shape.Pipes ? new[] { string.Empty, " -NoResolve" } : new[] { string.Empty })
            {
                MemoryOfAScan(report, holder, switches, shape.Kind);
            }
        }
    }

    /// <summary>
    /// The peak resident set of a separate pwsh running <paramref name="measured"/>, above that pwsh idle after
    /// <paramref name="warmUp"/> (JIT, the module's types), in MiB: the peak is reset (clear_refs 5) before the run.
    /// Also what <paramref name="measured"/> printed last.
    /// </summary>
    private static (double GrowthMiB, string Printed) PeakAboveIdle(string warmUp, string measured)
    {
        string script = $"Import-Module '{Path.Combine(Root, "EpollTools.psd1")}'; {warmUp}; [GC]::Collect(); " +
            "function Kb($f) { [long] ((Get-Content /proc/self/status | Where-Object { $_ -like \"$($f):*\" }) -split '\\s+')[1] }; " +
            $"$idle = Kb 'VmRSS'; [IO.File]::WriteAllText('/proc/self/clear_refs', '5'); $printed = & {{ {measured} }}; \"$idle $(Kb 'VmHWM') $printed\"";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        foreach (string argument in new[] { "pwsh", "-NoProfile", "-NonInteractive", "-Command", script })
        {
            start.ArgumentList.Add(argument);
        }

        using var pwsh = Process.Start(start)!;
        string output = pwsh.StandardOutput.ReadToEnd().Trim();
        string errors = pwsh.StandardError.ReadToEnd();
        pwsh.WaitForExit();
        var fields = output.Split('\n')[^1].Split(' ', 3);
        if (fields.Length < 3 || !long.TryParse(fields[0], CultureInfo.InvariantCulture, out long idle) || !long.TryParse(fields[1], CultureInfo.InvariantCulture, out long peak))
        {
            throw new InvalidOperationException($"the measuring pwsh printed '{output}': {errors}");
        }

        return ((peak - idle) / 1024.0, fields[2]);
    }

    private static void MemoryOfAScan(Report report, Holder holder, string switches, string kind)
    {
        string scan = $"$n = 0; Get-EpollInterest {(switches == " -All" ? "-WarningAction SilentlyContinue" : $"-Id {string.Join(',', holder.AllPids)} -EpollFd {holder.EpollFd}")}{switches} | ForEach-Object {{ $n++ }}; $n";
        var (growthMiB, output) = PeakAboveIdle("$null = Get-EpollInterest -Id $PID", scan);
        long found = long.Parse(output, CultureInfo.InvariantCulture);
        if (switches == " -All" ? found < 100_000 : found != 100_000)
        {
            throw new InvalidOperationException($"the scan found {found} registrations, not 100,000");
        }

        report.Ratio($"Get-EpollInterest{switches}, 100,000 registrations of {kind}: peak above idle", growthMiB, 64, "MiB", "the 64 MiB budget", target: 1.0);
    }

    // 8. Export-EpollMetric on a host with 100,000 registrations: against the two scans it makes, and its memory.
    private static void MetricsExport(Report report, string holderExe, Runspace runspace)
    {
        Console.WriteLine("\n8. Export-EpollMetric on a host with 100,000 registrations (100 processes) against the scans it makes (Get-EpollInterest -All, Get-MultiplexerWait -All)");
        using var holder = Holder.Start(holderExe, HolderShape.Processes(100_000, 100));
        double scans = Best(() => Time(() =>
        {
            Invoke(runspace, ps => ps.AddCommand("Get-EpollInterest").AddParameter("All").AddParameter("WarningAction", "SilentlyContinue"));
            Invoke(runspace, ps => ps.AddCommand("Get-MultiplexerWait").AddParameter("All").AddParameter("WarningAction", "SilentlyContinue"));
        }));
        double export = Best(() => Time(() => Invoke(runspace, ps => ps.AddCommand("Export-EpollMetric"))));
        report.Ratio("Export-EpollMetric, 100,000 registrations", export, scans, "ms", "Get-EpollInterest -All + Get-MultiplexerWait -All", target: 1.2);

        // Its peak above a warmed-up idle pwsh, as section 7 measures the scans: it keeps counts, not rows.
        var (growthMiB, characters) = PeakAboveIdle("$null = Export-EpollMetric -Id $PID", "(Export-EpollMetric).Length");
        Console.WriteLine($"   the metrics text: {long.Parse(characters, CultureInfo.InvariantCulture):N0} characters");
        report.Ratio("Export-EpollMetric, 100,000 registrations: peak above idle", growthMiB, 64, "MiB", "the 64 MiB budget", target: 1.0);
    }

    /// <summary>The CPU the ping-pong runs on: the last, so that the tracers (bpftrace, this process) have the others.</summary>
    private static readonly int LoopCpu = Environment.ProcessorCount - 1;

    private const int TracingRuns = 5;

    // 9. What tracing costs the traced loop: epoll-pingpong untraced, under Measure-MultiplexerWait, under
    // Trace-EpollInterest -Exact and under strace, per round trip; and how long until the first traced event.
    private static void TracingCost(Report report, string pingpong, Runspace runspace)
    {
        Console.WriteLine("\n9. Tracing a C epoll ping-pong (two processes, EPOLLONESHOT re-armed with EPOLL_CTL_MOD: per round trip each side waits, reads, re-arms, writes), per round trip");
        Console.WriteLine($"   Both processes on CPU {LoopCpu} alone (two context switches a round trip, not two wakeups across CPUs); the tracers run on the others. Runs taken in turns, best of {TracingRuns}.");
        if (Which("bpftrace") is null || Environment.UserName != "root")
        {
            Console.WriteLine("   skipped: it needs bpftrace (Debian's bpftrace) and root");
            return;
        }

        const int RoundTrips = 100_000;
        var said = new List<string>();
        long written = 0;
        // The measurement and the trace run past the loop (a generous bound), and end on their own: each says then
        // what the kernel dropped, if anything.
        int bound = 0;
        double untraced = double.MaxValue, measured = double.MaxValue, exact = double.MaxValue, probesAlone = double.MaxValue, linesAlone = double.MaxValue;
        for (int run = 0; run < TracingRuns; run++)
        {
            untraced = Math.Min(untraced, PingPong(pingpong, RoundTrips, null, _ => () => { }));
            // The floors bpftrace itself sets: its probes on the same calls doing nothing, and one line printed a call.
            probesAlone = Math.Min(probesAlone, PingPong(pingpong, RoundTrips, null, pids => RawBpftrace(pids, only =>
                string.Concat(new[] { "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6" }
                    .Select(call => $"tracepoint:syscalls:sys_enter_{call},tracepoint:syscalls:sys_exit_{call} /{only}/ {{ }}\n")))));
            linesAlone = Math.Min(linesAlone, PingPong(pingpong, RoundTrips, null, pids => RawBpftrace(pids, only =>
                $"tracepoint:syscalls:sys_exit_epoll_ctl,tracepoint:syscalls:sys_exit_epoll_wait /{only}/ {{ printf(\"%d\\n\", args->ret); }}\n")));
            bound = Math.Max(bound, (int)(RoundTrips * untraced * 5 / 1e6) + 5000);
            measured = Math.Min(measured, PingPong(pingpong, RoundTrips, null, pids => Attach(runspace, said,
                ps => ps.AddCommand("Measure-MultiplexerWait").AddParameter("Id", pids).AddParameter("Duration", bound))));
            exact = Math.Min(exact, PingPong(pingpong, RoundTrips, null, pids => Attach(runspace, said,
                ps => ps.AddCommand("Trace-EpollInterest").AddParameter("Id", pids).AddParameter("Exact").AddParameter("Duration", bound)
                    .AddCommand("Measure-Object"), result => written = Convert.ToInt64(result.Properties["Count"].Value, CultureInfo.InvariantCulture))));
        }

        report.Ratio("epoll ping-pong under Measure-MultiplexerWait", measured, untraced, "ns", "untraced", target: 1.2);
        report.Ratio("epoll ping-pong under bpftrace's probes on the seven calls, doing nothing", probesAlone, untraced, "ns", "untraced", target: null);
        report.Ratio("epoll ping-pong under Measure-MultiplexerWait", measured, probesAlone, "ns", "the probes doing nothing", target: null);
        report.Ratio("epoll ping-pong under Trace-EpollInterest -Exact", exact, untraced, "ns", "untraced", target: 2.0);
        report.Ratio("epoll ping-pong under bpftrace printing one line a call (epoll_ctl, epoll_wait)", linesAlone, untraced, "ns", "untraced", target: null);
        report.Ratio("epoll ping-pong under Trace-EpollInterest -Exact", exact, linesAlone, "ns", "one line a call", target: null);
        Console.WriteLine($"   (the exact trace wrote {written:N0} objects for {RoundTrips:N0} round trips{(said.Count > 0 ? "; " + string.Join("; ", said.Distinct()) : "; the kernel dropped none")})");
        if (Which("strace") is string strace)
        {
            // strace stops the process at each traced call: fewer round trips, the same per-trip figure.
            double straced = Enumerable.Range(0, TracingRuns).Min(_ => PingPong(pingpong, RoundTrips / 10, strace, _ => () => { }));
            report.Ratio("epoll ping-pong under strace -f -e trace=epoll_ctl,epoll_wait,epoll_pwait", straced, untraced, "ns", "untraced", target: null);
            report.Ratio("epoll ping-pong under Trace-EpollInterest -Exact", exact, straced, "ns", "under strace", target: 1.0);
            report.Ratio("epoll ping-pong under Measure-MultiplexerWait", measured, straced, "ns", "under strace", target: 1.0);
        }
        else
        {
            Console.WriteLine("   strace is not installed (Debian's strace): its column is left out");
        }

        // From the command to its first object, on a loop that never stops calling: bpftrace's compile and attach first.
        using var endless = Process.Start(new ProcessStartInfo(pingpong, $"1000000000 {LoopCpu}") { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        try
        {
            var pids = endless.StandardOutput.ReadLine()!.Split(' ').Skip(1).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            endless.StandardInput.WriteLine("go");
            endless.StandardInput.Flush();
            double first = Enumerable.Range(0, TracingRuns).Min(_ => TimeToFirstObject(runspace, ps => ps.AddCommand("Trace-EpollInterest").AddParameter("Id", pids).AddParameter("Exact")));
            Console.WriteLine($"   Trace-EpollInterest -Exact: from the command to its first object on a busy loop: {first:0} ms (most of it bpftrace compiling its program and attaching its probes)");
        }
        finally
        {
            endless.Kill(entireProcessTree: true);
            endless.WaitForExit();
        }
    }

    /// <summary>
    /// One run of epoll-pingpong (under <paramref name="wrapper"/>, strace, when given): <paramref name="attach"/> is
    /// called with its two pids before it starts and returns what to do once it ended; its time per round trip, in ns.
    /// </summary>
    private static double PingPong(string exe, int roundTrips, string? wrapper, Func<int[], Action> attach)
    {
        var start = wrapper is null
            ? new ProcessStartInfo(exe, $"{roundTrips} {LoopCpu}")
            : new ProcessStartInfo(wrapper, $"-f -qq -e trace=epoll_ctl,epoll_wait,epoll_pwait -o /dev/null {exe} {roundTrips} {LoopCpu}");
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        using var process = Process.Start(start)!;
        var pids = (process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("epoll-pingpong failed")).Split(' ').Skip(1)
            .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var detach = attach(pids);
        process.StandardInput.WriteLine("go");
        process.StandardInput.Flush();
        double perRoundTrip = double.Parse(process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("epoll-pingpong failed"), CultureInfo.InvariantCulture);
        process.WaitForExit();
        detach();
        return perRoundTrip;
    }

    /// <summary>A bpftrace program of its own on the loop's processes, attached; killed once the loop ended.</summary>
    private static Action RawBpftrace(int[] pids, Func<string, string> program)
    {
        var bpf = EpollTools.Core.Tracing.Exact.BpfTrace.StartAttached(
            program(EpollTools.Core.Tracing.Exact.EpollCallProgram.OnlyThese(pids)) + EpollTools.Core.Tracing.Exact.EpollCallProgram.AttachProbe(Environment.ProcessId),
            EpollTools.Core.Tracing.Exact.EpollCallProgram.AttachedLine, CancellationToken.None);
        return bpf.Dispose;
    }

    /// <summary>
    /// Starts a tracing command, waits until it says (Information) that its probes are attached, and returns what waits
    /// for it to end on its own: its warnings go to <paramref name="said"/>, its last object to <paramref name="result"/>.
    /// </summary>
    private static Action Attach(Runspace runspace, List<string> said, Action<PowerShell> build, Action<PSObject>? result = null)
    {
        var ps = PowerShell.Create();
        ps.Runspace = runspace;
        build(ps);
        var run = ps.BeginInvoke();
        var clock = Stopwatch.StartNew();
        while (ps.Streams.Information.Count == 0 && !run.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(10);
        }

        if (ps.Streams.Information.Count == 0)
        {
            throw new InvalidOperationException("the tracing command did not attach: " + string.Join("; ", ps.Streams.Error));
        }

        return () =>
        {
            var output = ps.EndInvoke(run);
            said.AddRange(ps.Streams.Warning.Select(w => w.Message));
            if (output.Count > 0)
            {
                result?.Invoke(output[^1]);
            }

            ps.Dispose();
        };
    }

    // 6. Get-MultiplexerWait's scan of waiting threads against reading the same /proc files with cat.
    private static void WaitingThreads(Report report, string waitersExe, Runspace runspace)
    {
        Console.WriteLine("\n6. Get-MultiplexerWait: the waiting-thread scan against cat of the files it reads (syscall, schedstat, stat, status, sched, wchan, comm of each thread)");
        Console.WriteLine("   The scan is timed with -SettleInterval 0: confirming a diagnosis is a deliberate wait (200 ms by default) and a second scan of the diagnosed processes, shown apart.");
        const int Threads = 1_000;
        using (var waiters = Process.Start(new ProcessStartInfo(waitersExe, Threads.ToString(CultureInfo.InvariantCulture)) { RedirectStandardInput = true, RedirectStandardOutput = true })!)
        {
            try
            {
                int pid = int.Parse(waiters.StandardOutput.ReadLine() ?? throw new InvalidOperationException("thread-waiters failed"), CultureInfo.InvariantCulture);
                int found = 0;
                double ours = Best(() => Time(() => found = Invoke(runspace, ps => ps.AddCommand("Get-MultiplexerWait").AddParameter("Id", pid).AddParameter("SettleInterval", 0)).Count));
                double confirmed = Best(() => Time(() => Invoke(runspace, ps => ps.AddCommand("Get-MultiplexerWait").AddParameter("Id", pid))));
                Console.WriteLine($"   with the default confirmation (all 1,000 share one instance, so every wait is diagnosed): {confirmed:0.0} ms");
                if (found != Threads)
                {
                    throw new InvalidOperationException($"Get-MultiplexerWait found {found} waiting threads, not {Threads}");
                }

                var files = TaskFiles(new[] { pid });
                double cat = Best(() => Time(() => Cat(files)));
                report.Ratio($"Get-MultiplexerWait -Id, {Threads:N0} threads in epoll_pwait", ours, cat, "ms", $"cat of their {files.Count:N0} files", target: 1.5);
            }
            finally
            {
                waiters.StandardInput.Close();
                waiters.WaitForExit();
            }
        }

        var pids = Directory.GetDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out int p) ? p : 0).Where(p => p > 0).ToArray();
        var hostFiles = TaskFiles(pids);
        double all = Best(() => Time(() => Invoke(runspace, ps => ps.AddCommand("Get-MultiplexerWait").AddParameter("All").AddParameter("SettleInterval", 0).AddParameter("WarningAction", "SilentlyContinue"))));
        double hostCat = Best(() => Time(() => Cat(hostFiles)));
        report.Ratio($"Get-MultiplexerWait -All, {pids.Length} processes", all, hostCat, "ms", $"cat of their threads' {hostFiles.Count:N0} files", target: 1.5);
    }

    /// <summary>The per-thread files Get-MultiplexerWait reads, for every thread of <paramref name="pids"/> there is now.</summary>
    private static List<string> TaskFiles(IEnumerable<int> pids)
    {
        var files = new List<string>();
        foreach (int pid in pids)
        {
            string[] tasks;
            try
            {
                tasks = Directory.GetDirectories($"/proc/{pid}/task");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            files.AddRange(tasks.SelectMany(task => new[] { "syscall", "schedstat", "stat", "status", "sched", "wchan", "comm" }.Select(name => Path.Combine(task, name))));
        }

        return files;
    }

    /// <summary>cat of the files, one process (files it may not read, or that are gone, are skipped as cat skips them).</summary>
    private static void Cat(IReadOnlyList<string> files)
    {
        var start = new ProcessStartInfo("cat") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string file in files)
        {
            start.ArgumentList.Add(file);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        errors.Wait();
    }

    /// <summary>This process's peak resident set so far (VmHWM), in bytes.</summary>
    private static long PeakWorkingSet() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    /// <summary>
    /// How a holder makes its registrations: eventfds in one process, or pipes or unix socket pairs (two fds each) in
    /// forked workers sharing the instance or each with one of its own.
    /// </summary>
    private sealed record HolderShape(int Registrations, int WorkerCount, bool Separate = false, string Kind = "pipes")
    {
        public static HolderShape OneProcess(int registrations) => new(registrations, 0, Kind: "eventfds");

        /// <summary>As many workers as the open-file limit needs (each pipe or socket pair is two fds), and at least two.</summary>
        public static HolderShape Workers(int registrations, string kind = "pipes")
        {
            int perWorker = (int)(EpollTools.Core.Multiplexers.MultiplexerBenchmark.FdBudget().Limit - 64) / 2;
            return new(registrations, Math.Max(2, (registrations + perWorker - 1) / perWorker), Kind: kind);
        }

        /// <summary><paramref name="processes"/> workers, each with an instance of its own and its share of the pipes.</summary>
        public static HolderShape Processes(int registrations, int processes) => new(registrations, processes, Separate: true);

        public bool Pipes => Kind == "pipes";

        public string Arguments => WorkerCount == 0 ? $"{Registrations}" : $"{Registrations} {Kind} {WorkerCount}{(Separate ? " separate" : string.Empty)}";

        public override string ToString() => WorkerCount == 0
            ? $"{Registrations:N0} eventfds registered by the holder itself"
            : Separate
                ? $"{Registrations:N0} {Kind} registered by {WorkerCount} processes, each in an instance of its own"
                : $"{Registrations:N0} {(Pipes ? "pipes" : "unix socket pairs (one end each)")} registered by {WorkerCount} forked workers sharing the instance (the open-file limit is per process)";
    }

    /// <summary>A running tests/fixtures/epoll-holder; disposing it ends it (and its workers, by their parent-death signal).</summary>
    private sealed class Holder : IDisposable
    {
        private readonly Process _process;

        private Holder(Process process, int[] pids, int epollFd)
        {
            _process = process;
            AllPids = pids;
            EpollFd = epollFd;
        }

        public int Pid => AllPids[0];

        /// <summary>The holder, then its workers.</summary>
        public int[] AllPids { get; }

        public int EpollFd { get; }

        public static Holder Start(string exe, HolderShape shape)
        {
            var process = Process.Start(new ProcessStartInfo(exe, shape.Arguments) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
            string line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("epoll-holder failed: " + shape.Arguments);
            var numbers = line.Split(' ').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return new Holder(process, numbers.Take(1).Concat(numbers.Skip(2)).ToArray(), numbers[1]);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            _process.WaitForExit();
            _process.StandardOutput.Dispose();
            _process.Dispose();
        }
    }

    private static void PrintMachine()
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        Console.WriteLine("EpollTools benchmark suite: every figure is ours / the baseline's, measured in this run (best of " + Runs + ").");
        Console.WriteLine($"machine: {cpu}, {Environment.ProcessorCount} cores; kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()} {RuntimeInformation.OSArchitecture}");
        Console.WriteLine($"versions: {RuntimeInformation.FrameworkDescription}; {FirstLine("gcc", "--version")}; {FirstLine("python3", "--version")}; {FirstLine("lsfd", "--version")}");
    }

    private static string FirstLine(string tool, string args)
    {
        try
        {
            return Which(tool) is null ? tool + " not found" : Run(tool, args).Split('\n')[0].Trim();
        }
        catch (InvalidOperationException)
        {
            return tool + " failed";
        }
    }

    private static string Compile(string name, bool shared, params string[] sources)
    {
        return RepoPaths.BuildC(Path.Combine(Work, name), shared ? "-pthread -shared -fPIC" : "-pthread", sources);
    }

    private static Runspace OpenRunspace()
    {
        var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        Invoke(runspace, ps => ps.AddCommand("Import-Module").AddParameter("Name", Path.Combine(Root, "EpollTools.psd1")).AddParameter("ErrorAction", "Stop"));
        return runspace;
    }

    private static Collection<PSObject> Invoke(Runspace runspace, Action<PowerShell> build)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        build(ps);
        var result = ps.Invoke();
        if (ps.Streams.Error.Count > 0)
        {
            throw new InvalidOperationException(ps.Streams.Error[0].ToString());
        }

        return result;
    }

    private static string Run(string file, string args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} {args} failed: {process.StandardError.ReadToEnd()}");
    }

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    /// <summary>How long the command takes to write its first object (then it is stopped), in milliseconds.</summary>
    private static double TimeToFirstObject(Runspace runspace, Action<PowerShell> build)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        build(ps);
        using var output = new PSDataCollection<PSObject>();
        using var first = new ManualResetEventSlim();
        double at = double.NaN;
        var clock = Stopwatch.StartNew();
        output.DataAdded += (_, _) =>
        {
            if (!first.IsSet)
            {
                at = clock.Elapsed.TotalMilliseconds;
                first.Set();
            }
        };
        var run = ps.BeginInvoke<PSObject, PSObject>(null, output);
        WaitHandle.WaitAny(new[] { first.WaitHandle, run.AsyncWaitHandle });
        ps.Stop();
        try
        {
            ps.EndInvoke(run);
        }
        catch (PipelineStoppedException)
        {
            // stopped after its first object, as asked
        }

        return first.IsSet ? at : throw new InvalidOperationException("the command wrote no object");
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>The best of <see cref="CoreRuns"/> runs of each measurement, taken in turns so that a slow spell
    /// of the machine falls on all of them alike.</summary>
    private static double[] BestInterleaved(params Func<double>[] measures)
    {
        foreach (var measure in measures)
        {
            measure(); // warm up: JIT, page cache, first-use costs
        }

        var best = Enumerable.Repeat(double.MaxValue, measures.Length).ToArray();
        for (int run = 0; run < CoreRuns; run++)
        {
            for (int i = 0; i < measures.Length; i++)
            {
                best[i] = Math.Min(best[i], measures[i]());
            }
        }

        return best;
    }

    private static double Best(Func<double> measure)
    {
        measure(); // warm up: JIT, page cache, first-use costs
        return Enumerable.Range(0, Runs).Select(_ => measure()).Min();
    }

    /// <summary>The C loops of bench/c/epoll-loops.c, loaded into this process.</summary>
    private sealed unsafe class CLoops
    {
        private readonly delegate* unmanaged<int, int, long, double> _ops;

        public CLoops(string library)
        {
            _ops = (delegate* unmanaged<int, int, long, double>)NativeLibrary.GetExport(NativeLibrary.Load(library), "epoll_ops_loop");
        }

        public double Ops(int ep, int efd, long iterations)
        {
            double ns = _ops(ep, efd, iterations);
            return ns >= 0 ? ns : throw new InvalidOperationException("the C loop failed");
        }
    }

    /// <summary>Prints each ratio as it is measured and the targets met or missed at the end.</summary>
    private sealed class Report
    {
        private readonly List<string> _missed = new();
        private int _met;

        public void Ratio(string what, double ours, double baseline, string unit, string baselineName, double? target)
        {
            double ratio = ours / baseline;
            string verdict = target is double t ? (ratio <= t ? $"  target <= {t}x: met" : $"  target <= {t}x: MISSED") : string.Empty;
            Console.WriteLine($"   {what}: {ours:0.0} {unit} vs {baselineName} {baseline:0.0} {unit} = {ratio:0.00}x{verdict}");
            if (target is double limit)
            {
                if (ratio <= limit)
                {
                    _met++;
                }
                else
                {
                    _missed.Add($"{what} vs {baselineName}: {ratio:0.00}x (target {limit}x)");
                }
            }
        }

        public void PrintSummary()
        {
            Console.WriteLine($"\ntargets met: {_met}, missed: {_missed.Count}");
            foreach (var miss in _missed)
            {
                Console.WriteLine("   missed: " + miss);
            }
        }
    }
}
