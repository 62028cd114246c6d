using System;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core;

/// <summary>One fd registered in an <see cref="EpollInstance"/>, as this process registered it.</summary>
public sealed class EpollRegistration
{
    private string? _target;

    internal EpollRegistration(int fd, EpollEvents events, ulong data)
    {
        Fd = fd;
        Events = events;
        Data = data;
    }

    public int Fd { get; }

    /// <summary>The mask passed to epoll_ctl (the kernel adds ERR|HUP when it stores it).</summary>
    public EpollEvents Events { get; internal set; }

    /// <summary>The mask in the kernel's short names, e.g. "IN|ET".</summary>
    public string Flags => EpollEventsText.ToShortString(Events);

    /// <summary>The 64-bit user data the kernel hands back with each event.</summary>
    public ulong Data { get; internal set; }

    /// <summary>False once a ONESHOT registration has fired and until it is modified again.</summary>
    public bool Armed { get; internal set; } = true;

    /// <summary>What the fd refers to, e.g. "pipe:[1234]", read from its /proc link when first asked for.</summary>
    /// <remarks>Read from /proc only when shown: a readlink per epoll_ctl would cost more than the call itself.</remarks>
    public string Target => _target ??= ProcFiles.FdFiles.ReadLink(Environment.ProcessId, Fd) ?? "?";

    public override string ToString() => $"fd {Fd} {Flags}";
}

/// <summary>One ready fd reported by epoll_wait.</summary>
public sealed class EpollEvent
{
    private readonly EpollRegistration? _registration;

    internal EpollEvent(EpollInstance instance, EpollRegistration? registration, EpollEvents events, ulong data)
    {
        Instance = instance;
        _registration = registration;
        Fd = registration?.Fd;
        Events = events;
        Data = data;
    }

    /// <summary>The registered fd this event belongs to, found from its data; null if the data matches none.</summary>
    public int? Fd { get; }

    public EpollEvents Events { get; }

    /// <summary>The ready events in the kernel's short names, e.g. "IN|HUP".</summary>
    public string Flags => EpollEventsText.ToShortString(Events);

    public ulong Data { get; }

    /// <summary>What the registered fd refers to (from the registration, read once).</summary>
    public string? Target => _registration?.Target;

    public EpollInstance Instance { get; }

    /// <summary>The epoll fd that reported the event.</summary>
    public int EpollFd => Instance.Fd;

    public override string ToString() => $"fd {Fd?.ToString() ?? "?"} {Flags}";
}
