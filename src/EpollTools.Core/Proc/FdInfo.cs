using System;
using System.Linq;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.Proc;

/// <summary>One fd of a process: what it is and everything /proc/&lt;pid&gt;/fdinfo says about it.</summary>
public sealed class FdInfo
{
    public int ProcessId { get; init; }

    public string ProcessName { get; init; } = string.Empty;

    public int Fd { get; init; }

    public TargetKind Type { get; init; }

    /// <summary>The /proc/&lt;pid&gt;/fd link target, e.g. "socket:[1234]" or "/var/log/x.log".</summary>
    public string Link { get; init; } = string.Empty;

    /// <summary>The target in one readable line (sockets with addresses, pipes with their other end...).</summary>
    public string Target { get; init; } = string.Empty;

    public long? Pos { get; init; }

    /// <summary>The open flags as a number (fdinfo prints them in octal).</summary>
    public int? Flags { get; init; }

    /// <summary>The open flags by name: "O_RDWR|O_NONBLOCK|O_CLOEXEC".</summary>
    public string? FlagNames { get; init; }

    public int? MntId { get; init; }

    public ulong? Ino { get; init; }

    /// <summary>Every "key: value" line of the fdinfo, in order, including the type-specific ones and those this module does not know.</summary>
    public FieldDictionary Fields { get; init; } = new();

    /// <summary>For an epoll fd: its registration lines ("tfd: 5 events: 19 data: 5 ...").</summary>
    public ItemList<string> EpollTargets { get; init; } = ItemList<string>.Empty;

    /// <summary>For inotify and fanotify fds: their watch and mark lines.</summary>
    public ItemList<string> Watches { get; init; } = ItemList<string>.Empty;

    /// <summary>Lines of the fdinfo that were neither key: value nor a known multi-field line.</summary>
    public ItemList<string> UnknownLines { get; init; } = ItemList<string>.Empty;

    /// <summary>Lines that could not be read, with the reason.</summary>
    public ItemList<string> ParseErrors { get; init; } = ItemList<string>.Empty;

    public override string ToString() => $"{ProcessId} fd {Fd} {Type} {Target}";

    /// <summary>Builds the description from the fdinfo text and the resolved target.</summary>
    public static FdInfo Create(int pid, string name, int fd, string link, (TargetKind Kind, string Description) target, string fdInfoText)
    {
        var info = FdInfoParser.Parse(fdInfoText);
        var fields = new FieldDictionary();
        foreach (var (key, value) in info.Fields)
        {
            fields.TryAdd(key, value);
        }

        var lines = fdInfoText.Split('\n');
        return new FdInfo
        {
            ProcessId = pid,
            ProcessName = name,
            Fd = fd,
            Type = target.Kind,
            Link = link,
            Target = target.Description,
            Pos = info.Pos,
            Flags = info.Flags,
            FlagNames = info.Flags is int flags ? Parsing.FlagNames.DecodeOpenFlags(flags) : null,
            MntId = info.MntId,
            Ino = info.Ino,
            Fields = fields,
            EpollTargets = lines.Where(l => l.StartsWith("tfd:", StringComparison.Ordinal)).ToArray(),
            Watches = lines.Where(l => l.StartsWith("inotify ", StringComparison.Ordinal) || l.StartsWith("fanotify ", StringComparison.Ordinal)).ToArray(),
            UnknownLines = info.UnknownLines.ToArray(),
            ParseErrors = info.Errors.Select(e => $"line {e.LineNumber}: {e.Reason}: {e.Line}").ToArray(),
        };
    }
}
