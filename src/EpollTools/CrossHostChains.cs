using System;
using System.Collections.ObjectModel;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using EpollTools.Core;
using EpollTools.Core.Chains;
using EpollTools.Core.Proc;

namespace EpollTools;

/// <summary>
/// Get-WaitChain -Session: a chain that reaches a TCP peer outside this host's /proc is followed to the host that
/// holds it, by asking each session whose address is the peer's (Get-WaitChain -LocalEndPoint -RemoteEndPoint there),
/// and back here when a remote link's peer is one of this host's processes. Cycles are found across hosts; the
/// depth counts every host's levels. Every link names its host.
/// </summary>
internal sealed class CrossHostChains
{
    private readonly IReadOnlyList<PSSession> _sessions;
    private readonly int _maxDepth;
    private readonly Action<ErrorRecord> _error;
    private readonly Func<bool> _stopping;
    private readonly Dictionary<PSSession, IPAddress[]> _addresses = new();

    public CrossHostChains(IReadOnlyList<PSSession> sessions, int maxDepth, Action<ErrorRecord> error, Func<bool> stopping)
    {
        _sessions = sessions;
        _maxDepth = maxDepth;
        _error = error;
        _stopping = stopping;
    }

    /// <summary>The links of one walk from this host, with every chain that leaves it followed where the sessions reach.</summary>
    public IEnumerable<WaitChainLink> Follow(IEnumerable<WaitChainLink> links) => Expand(links, 0, new List<WaitChainLink>());

    /// <param name="offset">What the links' depths start from (a remote walk counts from 0).</param>
    /// <param name="path">The Continues links above the current one, by depth: the waits that led here.</param>
    private IEnumerable<WaitChainLink> Expand(IEnumerable<WaitChainLink> links, int offset, List<WaitChainLink> path)
    {
        foreach (var found in links)
        {
            if (_stopping())
            {
                yield break;
            }

            var link = offset == 0 ? found : found with { Depth = found.Depth + offset };
            if (path.Count > link.Depth)
            {
                path.RemoveRange(link.Depth, path.Count - link.Depth);
            }

            if (link.End == ChainEnd.OutsideHost && link.PeerEndPoint is not null && link.LocalEndPoint is not null)
            {
                foreach (var crossed in Cross(link, path))
                {
                    yield return crossed;
                }

                continue;
            }

            yield return link;
            if (link.End == ChainEnd.Continues)
            {
                path.Add(link);
            }
        }
    }

    /// <summary>An OutsideHost link to a TCP peer: its holders where they are, each judged, walked, or closing a cycle.</summary>
    private IEnumerable<WaitChainLink> Cross(WaitChainLink link, List<WaitChainLink> path)
    {
        var holders = HoldersOfPeer(link);
        if (holders is null)
        {
            yield return link;
            yield break;
        }

        foreach (var (holder, holderLinks) in holders)
        {
            var step = link with
            {
                HolderProcessId = holder.ProcessId,
                HolderName = holder.ProcessName,
                HolderFd = holder.Fd,
                HolderEnd = "peer socket",
                HolderComputerName = holder.ComputerName,
            };

            // The waiters above, from the process asked about down to this link's own.
            var waiters = path.Select(l => (l.ComputerName, l.ProcessId)).Append((link.ComputerName, link.ProcessId)).ToList();
            int cycleStart = waiters.IndexOf((holder.ComputerName, holder.ProcessId));
            if (cycleStart >= 0)
            {
                yield return Closing(step, path.Skip(cycleStart).Append(step).ToList());
                continue;
            }

            if (holder.End != ChainEnd.Continues)
            {
                yield return step with { End = holder.End, Detail = holder.Detail };
                continue;
            }

            if (link.Depth + 1 >= _maxDepth)
            {
                yield return step with { End = ChainEnd.DepthLimit, Detail = $"{_maxDepth} levels followed; -Depth follows more" };
                continue;
            }

            yield return step with { End = ChainEnd.Continues, Detail = holder.Detail };
            path.Add(step);
            foreach (var next in Expand(holderLinks, link.Depth + 1, path))
            {
                yield return next;
            }
        }
    }

    /// <summary>The link that closes a cycle across hosts: a deadlock when every wait in it is the thread's only one.</summary>
    private static WaitChainLink Closing(WaitChainLink step, IReadOnlyList<WaitChainLink> cycle)
    {
        if (cycle.FirstOrDefault(l => !l.OnlyWait) is { } free)
        {
            return step with
            {
                End = ChainEnd.Cycle,
                Detail = $"back to {step.HolderComputerName}:{step.HolderProcessId}: a cycle of waits, but {free.ComputerName}:{free.ProcessId} (thread {free.ThreadId}) also waits on other fds, which may wake it: not a deadlock",
            };
        }

        return step with
        {
            End = ChainEnd.Cycle,
            Detail = $"back to {step.HolderComputerName}:{step.HolderProcessId}: a deadlock of {cycle.Count} processes across hosts ({string.Join(" -> ", cycle.Select(l => $"{l.ComputerName}:{l.ProcessId}"))})",
            CycleProcessIds = cycle.Select(l => l.ProcessId).ToArray(),
            CycleComputerNames = cycle.Select(l => l.ComputerName).ToArray(),
            CycleMembers = cycle.Select(l => Deadlock.Member(l.ComputerName, l.ProcessId, l.ProcessName, l.ThreadId, l.Fd, l.HolderComputerName, l.HolderProcessId, l.HolderFd)).ToArray(),
        };
    }

    /// <summary>
    /// Who holds the peer side of the link's connection: here (for a link read on another host), or on the host of a
    /// session whose address is the peer's. Null when neither is known (the link stays OutsideHost).
    /// </summary>
    private IReadOnlyList<(ConnectionHolder Holder, IEnumerable<WaitChainLink> Links)>? HoldersOfPeer(WaitChainLink link)
    {
        if (!IPEndPoint.TryParse(link.PeerEndPoint!, out var peer) || !IPEndPoint.TryParse(link.LocalEndPoint!, out var local))
        {
            return null;
        }

        if (link.ComputerName != Environment.MachineName)
        {
            // A walk of its own, read whole here: the walk this link came from is still being read.
            using var walker = new WaitChainWalker(Math.Max(1, _maxDepth - link.Depth - 1));
            var here = walker.FromConnection(peer, local).Select(h => (h.Holder, (IEnumerable<WaitChainLink>)h.Links.ToList())).ToList();
            if (here.Count > 0)
            {
                return here;
            }
        }

        foreach (var session in _sessions.Where(s => AddressesOf(s).Contains(peer.Address)))
        {
            var there = AskSession(session, peer, local, _maxDepth - link.Depth - 1);
            if (there.Count > 0)
            {
                return there;
            }
        }

        return null;
    }

    /// <summary>The addresses a session's computer name stands for (itself, when it is an address).</summary>
    private IPAddress[] AddressesOf(PSSession session)
    {
        if (!_addresses.TryGetValue(session, out var addresses))
        {
            try
            {
                addresses = IPAddress.TryParse(session.ComputerName, out var address) ? new[] { address } : Dns.GetHostAddresses(session.ComputerName);
            }
            catch (System.Net.Sockets.SocketException)
            {
                addresses = Array.Empty<IPAddress>();
            }

            _addresses[session] = addresses;
        }

        return addresses;
    }

    /// <summary>Get-WaitChain -LocalEndPoint -RemoteEndPoint on the session's host: its holders and their links.</summary>
    private List<(ConnectionHolder Holder, IEnumerable<WaitChainLink> Links)> AskSession(PSSession session, IPEndPoint local, IPEndPoint remote, int depth)
    {
        var answer = new List<(ConnectionHolder, IEnumerable<WaitChainLink>)>();
        Collection<PSObject> objects;
        using (var shell = PowerShell.Create())
        {
            shell.Runspace = session.Runspace;
            shell.AddCommand("Get-WaitChain").AddParameter("LocalEndPoint", local.ToString()).AddParameter("RemoteEndPoint", remote.ToString())
                .AddParameter("Depth", Math.Max(1, depth));
            try
            {
                objects = shell.Invoke();
            }
            catch (Exception e) when (e is RuntimeException or InvalidRunspaceStateException or System.Management.Automation.Remoting.PSRemotingTransportException)
            {
                _error(ErrorRecords.Usage("WaitChainSessionFailed", ErrorCategory.ConnectionError, session.ComputerName,
                    $"Could not follow the chain to {session.ComputerName} ({local}): {e.Message}",
                    "Check the session (Get-PSSession) and that EpollTools is installed there; the link stays OutsideHost."));
                return answer;
            }

            foreach (var error in shell.Streams.Error)
            {
                _error(error);
            }
        }

        List<WaitChainLink>? current = null;
        foreach (var item in objects)
        {
            if (IsOf(item, nameof(ConnectionHolder)))
            {
                current = new List<WaitChainLink>();
                answer.Add((RemoteObjects.Holder(item), current));
            }
            else if (IsOf(item, nameof(WaitChainLink)) && current is not null)
            {
                current.Add(RemoteObjects.Link(item));
            }
        }

        return answer;
    }

    private static bool IsOf(PSObject item, string typeName) => item.TypeNames.Any(t => t.EndsWith("." + typeName, StringComparison.Ordinal));
}
