using System.Collections.Generic;
using System.Linq;
using System.Text;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Chains;

/// <summary>
/// Wait chains as a Graphviz graph (DOT), for `dot -Tsvg`: a node per process (its pid, name and, where a chain ends
/// at it, why), an edge per link from the waiter to the holder labelled with the fds, and the edges of a deadlock in
/// red. A link with no holder (nobody, a peer on another host, a file with no process end) ends at a note.
/// </summary>
public static class WaitChainGraph
{
    public static string ToDot(IEnumerable<WaitChainLink> links)
    {
        var list = links.ToList();
        var dot = new StringBuilder("digraph waits {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
        // A process is a pid on a host: chains followed across hosts meet the same pids on different hosts.
        var processes = new Dictionary<(string Host, int Pid), (string Name, ChainEnd? End)>();
        foreach (var link in list)
        {
            processes.TryAdd((link.ComputerName, link.ProcessId), (link.ProcessName, null));
            if (HolderOf(link) is { } holder)
            {
                var end = link.End is ChainEnd.Continues or ChainEnd.ListedAbove or ChainEnd.Cycle ? (ChainEnd?)null : link.End;
                processes[holder] = (link.HolderName ?? "?", end ?? (processes.TryGetValue(holder, out var known) ? known.End : null));
            }
        }

        var hosts = processes.Keys.Select(p => p.Host).Distinct().ToList();
        string Node((string Host, int Pid) process) => hosts.Count == 1 ? $"p{process.Pid}" : $"h{hosts.IndexOf(process.Host)}p{process.Pid}";
        foreach (var (process, (name, end)) in processes)
        {
            // The escaped lines joined by DOT's own line break (a backslash and n, written after escaping).
            string label = (hosts.Count > 1 ? Escape(process.Host) + "\\n" : string.Empty) + Escape($"{process.Pid} {name}")
                + (end is ChainEnd reason ? "\\n" + Escape(reason.ToString()) : string.Empty);
            string style = end is ChainEnd.Stopped or ChainEnd.Traced or ChainEnd.Held ? ", style=filled, fillcolor=\"#ffd8a8\"" : string.Empty;
            dot.Append($"  {Node(process)} [label=\"{label}\"{style}];\n");
        }

        int notes = 0;
        foreach (var link in list)
        {
            string label = Escape($"fd {link.Fd} {link.Waits}" + (link.HolderFd is int fd ? $" -> fd {fd} {link.HolderEnd}" : string.Empty));
            bool deadlock = link.CycleProcessIds is { Count: > 0 } || IsInDeadlock(list, link);
            string color = deadlock ? ", color=red, fontcolor=red, penwidth=2" : string.Empty;
            string waiter = Node((link.ComputerName, link.ProcessId));
            if (HolderOf(link) is { } holder)
            {
                dot.Append($"  {waiter} -> {Node(holder)} [label=\"{label}\"{color}];\n");
            }
            else
            {
                // Where the chain ends without a process: a note saying why.
                string note = $"n{++notes}";
                dot.Append($"  {note} [shape=note, label=\"{Escape($"{link.End}: {link.Detail}")}\"];\n");
                dot.Append($"  {waiter} -> {note} [label=\"{label}\", style=dashed];\n");
            }
        }

        return dot.Append("}\n").ToString();
    }

    private static (string Host, int Pid)? HolderOf(WaitChainLink link)
        => link.HolderProcessId is int pid ? (link.HolderComputerName ?? link.ComputerName, pid) : null;

    /// <summary>Whether the link is a wait of a deadlock that another link closes (every member's edge is red, not the closing one alone).</summary>
    private static bool IsInDeadlock(IReadOnlyList<WaitChainLink> links, WaitChainLink link)
        => HolderOf(link) is { } holder && links.Any(l => l.CycleProcessIds is { Count: > 1 } cycle
            && InCycle(l, link.ComputerName, link.ProcessId) && InCycle(l, holder.Host, holder.Pid));

    /// <summary>Whether the process (a pid on a host) is a member of the cycle the link closes.</summary>
    private static bool InCycle(WaitChainLink closing, string host, int pid)
        => closing.CycleProcessIds!.Select((member, i) => (member, i))
            .Any(m => m.member == pid && (closing.CycleComputerNames is not { Count: > 0 } names || names[m.i] == host));

    /// <summary>Text as DOT reads it between quotes: backslashes and quotes escaped, line breaks as DOT's own.</summary>
    private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
