using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using EpollTools.Core.Native;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// bpftrace as a child process, running one program with JSON output: its printf lines as they arrive, its count of
/// events the kernel dropped, and its end. Disposing kills it (SIGKILL: the kernel detaches its probes as it exits,
/// and every count it has was already printed as it went): it never outlives the trace.
/// </summary>
public sealed class BpfTrace : IDisposable
{
    /// <summary>Per-CPU perf buffer, in pages: room for bursts of tens of thousands of calls before any is dropped.</summary>
    private const int PerfBufferPages = 4096;

    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = new();
    private readonly ManualResetEventSlim _attached = new();
    private readonly System.Text.StringBuilder _errors = new();
    private readonly ConcurrentQueue<string> _maps = new();

    /// <summary>Lines taken while waiting for an echo, not read yet: <see cref="Next"/> gives them first.</summary>
    private readonly Queue<string> _pending = new();
    private long _lost;
    private bool _disposed;

    private BpfTrace(Process process)
    {
        _process = process;
        // Read synchronously, so the readers are this class's to close (Process.Dispose leaves them open).
        var output = process.StandardOutput;
        var errors = process.StandardError;
        new Thread(() => ReadOutput(output)) { IsBackground = true, Name = "bpftrace output" }.Start();
        new Thread(() => ReadErrors(errors)) { IsBackground = true, Name = "bpftrace errors" }.Start();
    }

    /// <summary>Events the kernel dropped because the buffer was full, as bpftrace counted them so far.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>The maps bpftrace printed as it ended, each as its JSON ({"@name": {"key": value or buckets}}).</summary>
    public IReadOnlyList<string> Maps => _maps.ToArray();

    /// <summary>Waits for bpftrace to end on its own (a program that calls exit()); false if it has not within the limit.</summary>
    public bool WaitEnded(TimeSpan limit, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        while (!_lines.IsCompleted)
        {
            if (cancel.IsCancellationRequested || clock.Elapsed > limit)
            {
                return false;
            }

            Next(TimeSpan.FromMilliseconds(50), cancel);
        }

        return true;
    }

    /// <summary>Checks that an exact trace can run here, then starts bpftrace on <paramref name="program"/>.</summary>
    public static BpfTrace Start(string program)
    {
        string executable = FindOnPath("bpftrace")
            ?? throw new BpfTraceException(BpfTraceProblem.NotInstalled, "bpftrace is not installed (not on PATH).");
        if (!MayTrace())
        {
            throw new BpfTraceException(BpfTraceProblem.PermissionDenied, "An exact trace loads an eBPF program: it needs root, or CAP_BPF and CAP_PERFMON.");
        }

        if (!TracepointFormat.Exists("syscalls", "sys_enter_epoll_ctl"))
        {
            throw new BpfTraceException(BpfTraceProblem.NotSupported, "The syscall tracepoints are not available: tracefs is not mounted at /sys/kernel/tracing, or the kernel has no CONFIG_FTRACE_SYSCALLS.");
        }

        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "-f", "json", "-e", program })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["BPFTRACE_PERF_RB_PAGES"] = PerfBufferPages.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new BpfTrace(Process.Start(start) ?? throw new BpfTraceException(BpfTraceProblem.Failed, "bpftrace did not start."));
    }

    /// <summary>Waits until bpftrace has attached its probes (it compiles the program first: about a second).</summary>
    public void WaitAttached(TimeSpan limit, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        while (!_attached.Wait(TimeSpan.FromMilliseconds(50), cancel))
        {
            if (_process.HasExited || clock.Elapsed > limit)
            {
                string said = Said();
                throw new BpfTraceException(BpfTraceProblem.Failed, _process.HasExited
                    ? $"bpftrace ended before its probes were attached{(said.Length > 0 ? ": " + said : ".")}"
                    : $"bpftrace did not attach its probes within {limit.TotalSeconds:0} s.");
            }
        }
    }

    /// <summary>
    /// Starts bpftrace on <paramref name="program"/> and waits until every probe is attached (see
    /// <see cref="ReadUntilEcho"/>): the program's last probe must print <paramref name="echoLine"/> on this process's
    /// getppid. Lines the other probes printed meanwhile are read first by <see cref="Next"/>. Stopped if it fails.
    /// </summary>
    /// <exception cref="BpfTraceException">bpftrace is missing, not permitted, without tracepoints, or failed.</exception>
    /// <exception cref="OperationCanceledException">Canceled while it started.</exception>
    public static BpfTrace StartAttached(string program, string echoLine, CancellationToken cancel)
    {
        var bpf = Start(program);
        try
        {
            // bpftrace says it attaches before it does, and attaches in the program's order: the last probe's echo
            // comes back only once all the others are attached.
            bpf.WaitAttached(TimeSpan.FromSeconds(60), cancel);
            var early = new List<string>();
            if (!bpf.ReadUntilEcho(echoLine, TimeSpan.FromSeconds(60), cancel, early.Add))
            {
                cancel.ThrowIfCancellationRequested();
                throw new BpfTraceException(BpfTraceProblem.Failed, $"bpftrace did not attach its probes: {bpf.Said()}");
            }

            early.ForEach(bpf._pending.Enqueue);
            return bpf;
        }
        catch
        {
            bpf.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Calls getppid, which the program's last probe echoes as <paramref name="echoLine"/>, until the echo comes back,
    /// giving every line before it to <paramref name="before"/> (those not read yet first): what the kernel had when
    /// the echo was written. False if bpftrace ended, the limit passed or the call was canceled first.
    /// </summary>
    public bool ReadUntilEcho(string echoLine, TimeSpan limit, CancellationToken cancel, Action<string> before)
    {
        while (_pending.TryDequeue(out string? pending))
        {
            before(pending);
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit && !cancel.IsCancellationRequested)
        {
            _ = NativeMethods.getppid();
            string? line = Take(TimeSpan.FromMilliseconds(10), cancel);
            if (line == echoLine)
            {
                return true;
            }

            if (line is not null)
            {
                before(line);
            }
            else if (Ended)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>The next printf line, or null when none came within <paramref name="wait"/> (or bpftrace ended).</summary>
    public string? Next(TimeSpan wait, CancellationToken cancel) => _pending.TryDequeue(out string? line) ? line : Take(wait, cancel);

    private string? Take(TimeSpan wait, CancellationToken cancel)
    {
        try
        {
            return _lines.TryTake(out string? line, (int)Math.Clamp(wait.TotalMilliseconds, 0, int.MaxValue), cancel) ? line : null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Whether bpftrace has ended and every line it printed was taken.</summary>
    public bool Ended => _lines.IsCompleted && _pending.Count == 0;

    /// <summary>What bpftrace said on its standard error, but the warning every run prints about RLIMIT_MEMLOCK.</summary>
    public string Said()
    {
        lock (_errors)
        {
            return _errors.ToString().Trim();
        }
    }

    private void ReadOutput(StreamReader output)
    {
        try
        {
            while (output.ReadLine() is string json)
            {
                Take(json);
            }
        }
        catch (IOException)
        {
            // The pipe broke: nothing more will come.
        }
        finally
        {
            output.Dispose();
            _lines.CompleteAdding();
        }
    }

    /// <summary>One line of bpftrace's JSON output: {"type": "printf", "data": "..."}, "attached_probes", "lost_events".</summary>
    private void Take(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            string? type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
            var data = root.TryGetProperty("data", out var d) ? d : default;
            switch (type)
            {
                case "attached_probes":
                    _attached.Set();
                    break;
                case "printf" when data.ValueKind == JsonValueKind.String:
                    foreach (string line in data.GetString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    {
                        _lines.Add(line);
                    }

                    break;
                case "map" or "hist" when data.ValueKind == JsonValueKind.Object:
                    _maps.Enqueue(data.GetRawText());
                    break;
                case "lost_events" when data.ValueKind == JsonValueKind.Object && data.TryGetProperty("events", out var count) && count.TryGetInt64(out long lost):
                    Interlocked.Add(ref _lost, lost);
                    break;
            }
        }
    }

    private void ReadErrors(StreamReader errors)
    {
        try
        {
            while (errors.ReadLine() is string line)
            {
                if (line.Contains("RLIMIT_MEMLOCK", StringComparison.Ordinal))
                {
                    continue; // printed on every run where the limit is already high enough
                }

                lock (_errors)
                {
                    _errors.AppendLine(line);
                }
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            errors.Dispose();
        }
    }

    private static string? FindOnPath(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name)).FirstOrDefault(File.Exists);

    /// <summary>Root, or the capabilities loading a tracing program needs (CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN).</summary>
    private static bool MayTrace()
    {
        if (NativeMethods.geteuid() == 0)
        {
            return true;
        }

        string? line = ProcFs.ReadProcessFile(Environment.ProcessId, "status")?.Split('\n').FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        if (line is null || !ulong.TryParse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, null, out ulong capabilities))
        {
            return false;
        }

        bool Has(int capability) => (capabilities & (1UL << capability)) != 0;
        return Has(CapabilityConstants.CAP_SYS_ADMIN) || (Has(CapabilityConstants.CAP_BPF) && Has(CapabilityConstants.CAP_PERFMON));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It ended on its own.
        }

        // The kernel takes about a second to detach the probes of a bpftrace that ends (SIGINT or SIGKILL alike): it
        // is reaped on a thread of its own, so that Ctrl+C returns at once. Killed, it runs nothing meanwhile.
        var process = _process;
        ThreadPool.QueueUserWorkItem(_ =>
        {
            process.WaitForExit();
            process.Dispose();
        });
        _attached.Dispose();
    }
}
