namespace EpollTools.Core.Proc;

/// <summary>
/// Get-EpollInterest -TargetPort's answer by default: what one epoll instance registers of the TCP and UDP sockets on
/// one local port, counted. A server with 8,000 connections is one object, not 8,000 rows; -PerConnection gives the
/// rows. Plain properties only, so that it survives serialization.
/// </summary>
public sealed class PortWatch
{
    public int Port { get; init; }

    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int EpollFd { get; init; }

    /// <summary>Every process:fd that holds the instance (see <see cref="EpollInterest.Holders"/>).</summary>
    public ItemList<string> Holders { get; init; } = ItemList<string>.Empty;

    /// <summary>Registered sockets with no peer: TCP listeners, unconnected UDP sockets.</summary>
    public int Listening { get; init; }

    /// <summary>Registered sockets with a peer (TCP connections in any state, connected UDP sockets).</summary>
    public int Connections { get; init; }

    /// <summary>The connections by state, most first: "ESTABLISHED 7980, CLOSE_WAIT 12".</summary>
    public string States { get; init; } = string.Empty;

    /// <summary>Connections accepted by the kernel and not yet by the program, over the listeners (their Recv-Q).</summary>
    public long NotYetAccepted { get; init; }

    /// <summary>Bytes received and not yet read, over the connections (their Recv-Q).</summary>
    public long BytesUnread { get; init; }

    /// <summary>The masks the sockets are registered with, most used first: "IN|ET 7980, IN 1".</summary>
    public string RequestedFlags { get; init; } = string.Empty;

    /// <summary>The threads blocked in an epoll wait on the instance now; null when not read.</summary>
    public ItemList<int>? WaitingThreadIds { get; init; }

    /// <summary>The registrations' diagnoses, one per kind, each saying on how many sockets and which fds.</summary>
    public ItemList<Diagnosis> Diagnoses { get; init; } = ItemList<Diagnosis>.Empty;

    public override string ToString() =>
        $"port {Port}: {ProcessId} ({ProcessName}) epoll fd {EpollFd}, {Listening} listening, {Connections} connections";
}
