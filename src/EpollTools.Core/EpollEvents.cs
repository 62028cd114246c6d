using System;
using System.Collections.Generic;

namespace EpollTools.Core;

/// <summary>
/// Every event bit of include/uapi/linux/eventpoll.h (EPOLLIN ... EPOLLET), named without the prefix.
/// This enum is the one definition of these bits in the module.
/// </summary>
[Flags]
public enum EpollEvents : uint
{
    None = 0,
    /// <summary>EPOLLIN: readable.</summary>
    In = 0x00000001,
    /// <summary>EPOLLPRI: exceptional condition (TCP urgent data, cgroup events...).</summary>
    Pri = 0x00000002,
    /// <summary>EPOLLOUT: writable.</summary>
    Out = 0x00000004,
    /// <summary>EPOLLERR: error; always reported, the kernel stores it with every registration.</summary>
    Err = 0x00000008,
    /// <summary>EPOLLHUP: hang-up; always reported, stored with every registration.</summary>
    Hup = 0x00000010,
    /// <summary>EPOLLNVAL: invalid fd (poll(2) only; epoll never reports it).</summary>
    Nval = 0x00000020,
    /// <summary>EPOLLRDNORM: normal data readable.</summary>
    RdNorm = 0x00000040,
    /// <summary>EPOLLRDBAND: priority band data readable.</summary>
    RdBand = 0x00000080,
    /// <summary>EPOLLWRNORM: normal data writable.</summary>
    WrNorm = 0x00000100,
    /// <summary>EPOLLWRBAND: priority band data writable.</summary>
    WrBand = 0x00000200,
    /// <summary>EPOLLMSG: unused by Linux.</summary>
    Msg = 0x00000400,
    /// <summary>EPOLLRDHUP: stream socket peer closed or shut down writing.</summary>
    RdHup = 0x00002000,
    /// <summary>EPOLLEXCLUSIVE: wake one of several epoll instances waiting on the same fd (ADD only).</summary>
    Exclusive = 1u << 28,
    /// <summary>EPOLLWAKEUP: hold a wakeup source while the event is pending (needs CAP_BLOCK_SUSPEND).</summary>
    Wakeup = 1u << 29,
    /// <summary>EPOLLONESHOT: disarm after one event; re-arm with EPOLL_CTL_MOD.</summary>
    OneShot = 1u << 30,
    /// <summary>EPOLLET: edge-triggered.</summary>
    ET = 1u << 31,
}

/// <summary>Text forms of <see cref="EpollEvents"/> for terminals and logs.</summary>
public static class EpollEventsText
{
    private static readonly (EpollEvents Flag, string Name)[] Names =
    {
        (EpollEvents.In, "IN"), (EpollEvents.Pri, "PRI"), (EpollEvents.Out, "OUT"),
        (EpollEvents.Err, "ERR"), (EpollEvents.Hup, "HUP"), (EpollEvents.Nval, "NVAL"),
        (EpollEvents.RdNorm, "RDNORM"), (EpollEvents.RdBand, "RDBAND"), (EpollEvents.WrNorm, "WRNORM"),
        (EpollEvents.WrBand, "WRBAND"), (EpollEvents.Msg, "MSG"), (EpollEvents.RdHup, "RDHUP"),
        (EpollEvents.Exclusive, "EXCLUSIVE"), (EpollEvents.Wakeup, "WAKEUP"),
        (EpollEvents.OneShot, "ONESHOT"), (EpollEvents.ET, "ET"),
    };

    /// <summary>
    /// Reads a mask written as the module prints it ("IN|ET"), as C spells it ("EPOLLIN | EPOLLET"), or as a list
    /// ("In, ET"); a token may also be hex bits ("0x80000000") or "0" for none. Case is ignored. A token that is
    /// none of these is a <see cref="FormatException"/> naming it.
    /// </summary>
    public static EpollEvents Parse(string text)
    {
        var result = EpollEvents.None;
        foreach (string token in text.Split(new[] { '|', ',', ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
        {
            string name = token.StartsWith("EPOLL", StringComparison.OrdinalIgnoreCase) ? token.Substring(5) : token;
            if (name == "0")
            {
                continue;
            }

            if (name.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && uint.TryParse(name.AsSpan(2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out uint bits))
            {
                result |= (EpollEvents)bits;
                continue;
            }

            int found = Array.FindIndex(Names, n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase));
            if (found < 0)
            {
                throw new FormatException($"'{token}' is not an epoll event. Use IN, PRI, OUT, ERR, HUP, RDHUP, EXCLUSIVE, WAKEUP, ONESHOT, ET (or EPOLLIN ...), joined with '|' or ','.");
            }

            result |= Names[found].Flag;
        }

        return result;
    }

    /// <summary>Whether <paramref name="text"/> reads as a mask (see <see cref="Parse"/>), and which.</summary>
    public static bool TryParse(string text, out EpollEvents events)
    {
        try
        {
            events = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            events = EpollEvents.None;
            return false;
        }
    }

    /// <summary>The kernel's short names joined with '|', e.g. "IN|ERR|HUP|ET"; unknown bits as hex.</summary>
    public static string ToShortString(EpollEvents events)
    {
        if (events == EpollEvents.None)
        {
            return "0";
        }

        var parts = new List<string>();
        uint rest = (uint)events;
        foreach (var (flag, name) in Names)
        {
            if ((events & flag) != 0)
            {
                parts.Add(name);
                rest &= ~(uint)flag;
            }
        }

        if (rest != 0)
        {
            parts.Add("0x" + rest.ToString("x"));
        }

        return string.Join("|", parts);
    }
}

/// <summary>Sets of <see cref="EpollEvents"/> bits the kernel treats together.</summary>
public static class EpollEventGroups
{
    /// <summary>
    /// EP_PRIVATE_BITS of fs/eventpoll.c: the flags a registration keeps when a one-shot fires (its events are
    /// masked down to these), so a disarmed registration reads back as these bits alone.
    /// </summary>
    public const EpollEvents PrivateBits = EpollEvents.Wakeup | EpollEvents.OneShot | EpollEvents.ET | EpollEvents.Exclusive;

    /// <summary>The readiness a reader acts on: data (IN, PRI) or the peer's end of stream (RDHUP).</summary>
    public const EpollEvents Input = EpollEvents.In | EpollEvents.Pri | EpollEvents.RdHup;
}
