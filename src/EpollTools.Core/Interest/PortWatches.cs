using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Interest;

/// <summary>Counts per-connection rows into <see cref="PortWatch"/> objects: a pure function of the rows and their sockets.</summary>
public static class PortWatches
{
    /// <summary>Fds named in a summed-up diagnosis at most; the rest are counted.</summary>
    public const int FdsNamed = 5;

    /// <summary>
    /// One <see cref="PortWatch"/> per instance and local port, in the order the rows came. A row whose socket is not
    /// known (null) or has no local port is not counted: the caller keeps such rows as they are.
    /// </summary>
    public static List<PortWatch> Summarize(IEnumerable<(EpollInterest Row, SocketEntry? Socket)> rows)
    {
        var groups = new Dictionary<(int, int, ulong?, int), List<(EpollInterest Row, SocketEntry Socket)>>();
        var order = new List<(int, int, ulong?, int)>();
        foreach (var (row, socket) in rows)
        {
            if (socket?.LocalPort is not int port)
            {
                continue;
            }

            var key = (row.ProcessId, row.EpollFd, row.EpollInode, port);
            if (!groups.TryGetValue(key, out var members))
            {
                groups[key] = members = new List<(EpollInterest, SocketEntry)>();
                order.Add(key);
            }

            members.Add((row, socket));
        }

        return order.Select(key => Summarize(key.Item4, groups[key])).ToList();
    }

    private static PortWatch Summarize(int port, List<(EpollInterest Row, SocketEntry Socket)> members)
    {
        var first = members[0].Row;
        var listening = members.Where(m => !HasPeer(m.Socket)).ToList();
        var connected = members.Where(m => HasPeer(m.Socket)).ToList();
        return new PortWatch
        {
            Port = port,
            ProcessId = first.ProcessId,
            ProcessName = first.ProcessName,
            EpollFd = first.EpollFd,
            Holders = first.Holders,
            Listening = listening.Count,
            Connections = connected.Count,
            States = Counted(connected.Select(m => m.Socket.State)),
            NotYetAccepted = listening.Sum(m => m.Socket.ReceiveQueue ?? 0),
            BytesUnread = connected.Sum(m => m.Socket.ReceiveQueue ?? 0),
            RequestedFlags = Counted(members.Select(m => m.Row.RequestedFlags)),
            WaitingThreadIds = first.WaitingThreadIds,
            Diagnoses = SumDiagnoses(members.Select(m => m.Row).ToList()),
        };
    }

    private static bool HasPeer(SocketEntry socket) => socket.RemotePort is > 0;

    /// <summary>"A 3, B 1": each distinct value with how many times it occurs, most first.</summary>
    private static string Counted(IEnumerable<string> values) => string.Join(", ", values
        .GroupBy(v => v, StringComparer.Ordinal)
        .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => $"{g.Key} {g.Count().ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>
    /// One diagnosis per kind found on the rows: "3 of 7992 sockets: edge-triggered, IN ready now (fd 12, 15, 19)",
    /// with the first one's explanation. Nothing found on a connection is lost in the count. A lone socket's
    /// diagnoses are its own.
    /// </summary>
    private static ItemList<Diagnosis> SumDiagnoses(List<EpollInterest> rows) => rows.Count == 1 ? rows[0].Diagnoses : rows
        .SelectMany(row => row.Diagnoses.Select(d => (Row: row, Diagnosis: d)))
        .GroupBy(found => found.Diagnosis.Kind)
        .OrderBy(kind => kind.Key)
        .Select(kind =>
        {
            var fds = kind.Select(found => found.Row.TargetFd).Distinct().OrderBy(fd => fd).ToList();
            string named = string.Join(", ", fds.Take(FdsNamed).Select(fd => fd.ToString(CultureInfo.InvariantCulture)))
                + (fds.Count > FdsNamed ? $" and {fds.Count - FdsNamed} more" : string.Empty);
            var example = kind.First().Diagnosis;
            return new Diagnosis
            {
                Kind = kind.Key,
                Summary = $"{fds.Count} of {rows.Count} sockets: {example.Summary} (fd {named})",
                Explanation = example.Explanation + " -PerConnection lists each socket with its own diagnosis.",
            };
        })
        .ToArray();
}
