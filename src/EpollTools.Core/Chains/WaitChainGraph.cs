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
        var processes = new Dictionary<int, (string Name, ChainEnd? End)>();
        foreach (var link in list)
        {
            processes.TryAdd(link.ProcessId, (link.ProcessName, null));
            if (link.HolderProcessId is int holder)
            {
                var end = link.End is ChainEnd.Continues or ChainEnd.ListedAbove or ChainEnd.Cycle ? (ChainEnd?)null : link.End;
                processes[holder] = (link.HolderName ?? "?", end ?? (processes.TryGetValue(holder, out var known) ? known.End : null));
            }
        }

        foreach (var (pid, (name, end)) in processes)
        {
            // The escaped lines joined by DOT's own line break (a backslash and n, written after escaping).
            string label = Escape($"{pid} {name}") + (end is ChainEnd reason ? "\\n" + Escape(reason.ToString()) : string.Empty);
            string style = end is ChainEnd.Stopped or ChainEnd.Traced or ChainEnd.Held ? ", style=filled, fillcolor=\"#ffd8a8\"" : string.Empty;
            dot.Append($"  p{pid} [label=\"{label}\"{style}];\n");
        }

        int notes = 0;
        foreach (var link in list)
        {
            string label = Escape($"fd {link.Fd} {link.Waits}" + (link.HolderFd is int fd ? $" -> fd {fd} {link.HolderEnd}" : string.Empty));
            bool deadlock = link.CycleProcessIds is { Count: > 0 } || IsInDeadlock(list, link);
            string color = deadlock ? ", color=red, fontcolor=red, penwidth=2" : string.Empty;
            if (link.HolderProcessId is int holder)
            {
                dot.Append($"  p{link.ProcessId} -> p{holder} [label=\"{label}\"{color}];\n");
            }
            else
            {
                // Where the chain ends without a process: a note saying why.
                string note = $"n{++notes}";
                dot.Append($"  {note} [shape=note, label=\"{Escape($"{link.End}: {link.Detail}")}\"];\n");
                dot.Append($"  p{link.ProcessId} -> {note} [label=\"{label}\", style=dashed];\n");
            }
        }

        return dot.Append("}\n").ToString();
    }

    /// <summary>Whether the link is a wait of a deadlock that another link closes (every member's edge is red, not the closing one alone).</summary>
    private static bool IsInDeadlock(IReadOnlyList<WaitChainLink> links, WaitChainLink link)
        => link.HolderProcessId is int holder && links.Any(l => l.CycleProcessIds is { Count: > 1 } cycle
            && cycle.Contains(link.ProcessId) && cycle.Contains(holder));

    /// <summary>Text as DOT reads it between quotes: backslashes and quotes escaped, line breaks as DOT's own.</summary>
    private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
