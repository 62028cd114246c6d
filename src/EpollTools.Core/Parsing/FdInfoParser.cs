using System;
using System.Collections.Generic;
using System.Globalization;

namespace EpollTools.Core.Parsing;

/// <summary>
/// Parses /proc/&lt;pid&gt;/fdinfo/&lt;fd&gt; text (Documentation/filesystems/proc.rst, "Information about open
/// files"). A pure function of the text; it never throws: what it cannot read goes to <see cref="FdInfo.Errors"/>.
/// </summary>
public static class FdInfoParser
{
    public static FdInfo Parse(string text)
    {
        var parser = new LineParser();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            parser.Add(line);
        }

        return parser.Result;
    }

    /// <summary>
    /// Parses fdinfo a line at a time, for a reader that streams the file instead of holding its text (an epoll fd
    /// with 100,000 registrations prints some 10 MB). Feeding it every line of a text gives what <see cref="Parse"/> gives.
    /// </summary>
    public sealed class LineParser
    {
        private readonly Dictionary<int, int> _epollOffsets = new();
        private int _lineNumber;

        public FdInfo Result { get; } = new();

        public void Add(ReadOnlySpan<char> rawLine)
        {
            _lineNumber++;
            if (rawLine.IsWhiteSpace())
            {
                return;
            }

            try
            {
                if (rawLine.StartsWith("tfd:", StringComparison.Ordinal))
                {
                    // The one line that can come 100,000 times: read from the span, nothing allocated but the line's record.
                    Result.EpollTargets.Add(ParseEpollLine(rawLine, _epollOffsets));
                }
                else
                {
                    ParseLine(Result, rawLine.ToString());
                }
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                Result.Errors.Add(new FdInfoParseError(_lineNumber, rawLine.ToString(), e.Message));
            }
        }
    }

    /// <summary>Parses just the registration lines of an epoll fd's fdinfo, in the kernel's (red-black tree) order.</summary>
    public static List<EpollTargetLine> ParseEpollTargets(string text) => Parse(text).EpollTargets;

    private static void ParseLine(FdInfo info, string line)
    {
        if (line.StartsWith("inotify ", StringComparison.Ordinal))
        {
            var pairs = Pairs(line, 1);
            info.InotifyWatches.Add(new InotifyWatch(
                HexInt(Required(pairs, "wd")), Hex(Required(pairs, "ino")), Hex32(Required(pairs, "sdev")),
                Hex32(Required(pairs, "mask")), Hex32(Required(pairs, "ignored_mask"))));
            return;
        }

        if (line.StartsWith("fanotify ", StringComparison.Ordinal))
        {
            ParseFanotify(info, Pairs(line, 1));
            return;
        }

        int colon = line.IndexOf(':');
        if (colon <= 0)
        {
            info.UnknownLines.Add(line);
            return;
        }

        string key = line.Substring(0, colon);
        string value = line.Substring(colon + 1).Trim();
        info.Fields.Add(new KeyValuePair<string, string>(key, value));
        switch (key)
        {
            case "pos":
                info.Pos = long.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "flags":
                info.Flags = Octal(value);
                break;
            case "mnt_id":
                info.MntId = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "ino":
                info.Ino = ulong.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "eventfd-count":
                info.EventFd = new EventFdFields(Hex(value), info.EventFd?.Id, info.EventFd?.Semaphore);
                break;
            case "eventfd-id":
                info.EventFd = (info.EventFd ?? new EventFdFields(0, null, null)) with { Id = int.Parse(value, CultureInfo.InvariantCulture) };
                break;
            case "eventfd-semaphore":
                info.EventFd = (info.EventFd ?? new EventFdFields(0, null, null)) with { Semaphore = value != "0" };
                break;
            case "clockid":
                info.TimerFd = (info.TimerFd ?? EmptyTimer) with { ClockId = int.Parse(value, CultureInfo.InvariantCulture) };
                break;
            case "ticks":
                info.TimerFd = (info.TimerFd ?? EmptyTimer) with { Ticks = ulong.Parse(value, CultureInfo.InvariantCulture) };
                break;
            case "settime flags":
                info.TimerFd = (info.TimerFd ?? EmptyTimer) with { SettimeFlags = Octal(value) };
                break;
            case "it_value":
                info.TimerFd = (info.TimerFd ?? EmptyTimer) with { Value = SecondsNanoseconds(value) };
                break;
            case "it_interval":
                info.TimerFd = (info.TimerFd ?? EmptyTimer) with { Interval = SecondsNanoseconds(value) };
                break;
            case "sigmask":
                info.SignalMask = Hex(value);
                break;
            case "Pid":
                info.PidFdPid = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "NSpid":
                info.PidFdNsPids = Array.ConvertAll(value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), s => int.Parse(s, CultureInfo.InvariantCulture));
                break;
            default:
                // Kept in Fields: lock:, tty-index:, and whatever later kernels add.
                break;
        }
    }

    private static readonly TimerFdFields EmptyTimer = new(0, 0, 0, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>"tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x"; older kernels stop after data.</summary>
    private static EpollTargetLine ParseEpollLine(ReadOnlySpan<char> line, Dictionary<int, int> epollOffsets)
    {
        int? tfd = null;
        uint? events = null;
        ulong? data = null;
        long? pos = null;
        ulong? ino = null;
        uint? sdev = null;
        var pairs = new PairReader(line, 0);
        while (pairs.Next(out var key, out var value))
        {
            // As with the other lines, a key given twice takes its last value, and keys a later kernel adds are skipped.
            switch (key)
            {
                case "tfd":
                    tfd = int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
                    break;
                case "events":
                    events = Hex32(value);
                    break;
                case "data":
                    data = Hex(value);
                    break;
                case "pos":
                    pos = long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
                    break;
                case "ino":
                    ino = Hex(value);
                    break;
                case "sdev":
                    sdev = Hex32(value);
                    break;
            }
        }

        int number = tfd ?? throw new FormatException("no 'tfd' field.");
        var mask = (EpollEvents)(events ?? throw new FormatException("no 'events' field."));
        ulong cookie = data ?? throw new FormatException("no 'data' field.");

        // Registrations of different files can share a tfd number; kcmp's KCMP_EPOLL_TFD tells them apart by
        // their order among the lines with that number (the same tree walk prints the lines).
        epollOffsets.TryGetValue(number, out int offset);
        epollOffsets[number] = offset + 1;
        return new EpollTargetLine(number, mask, cookie, pos, ino, sdev, offset);
    }

    private static void ParseFanotify(FdInfo info, Dictionary<string, string> pairs)
    {
        if (pairs.TryGetValue("flags", out var flags))
        {
            info.FanotifyFlags = Hex32(flags);
            info.FanotifyEventFlags = Hex32(Required(pairs, "event-flags"));
            return;
        }

        info.FanotifyMarks.Add(new FanotifyMark(
            pairs.TryGetValue("ino", out var ino) ? Hex(ino) : null,
            pairs.TryGetValue("sdev", out var sdev) ? Hex32(sdev) : null,
            pairs.TryGetValue("mnt_id", out var mnt) ? HexInt(mnt) : null,
            Hex32(Required(pairs, "mflags")), Hex32(Required(pairs, "mask")), Hex32(Required(pairs, "ignored_mask"))));
    }

    /// <summary>
    /// The key:value pairs of a line, skipping <paramref name="skip"/> leading words. A key is a token ending in
    /// ':' (its value is the next token) or the part of a token before its first ':'.
    /// </summary>
    private static Dictionary<string, string> Pairs(string line, int skip)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new PairReader(line, skip);
        while (reader.Next(out var key, out var value))
        {
            pairs[key.ToString()] = value.ToString();
        }

        return pairs;
    }

    /// <summary>
    /// The pairs of a line, one at a time and as spans of it (the epoll lines are parsed without allocating).
    /// </summary>
    private ref struct PairReader
    {
        private ReadOnlySpan<char> _rest;

        public PairReader(ReadOnlySpan<char> line, int skip)
        {
            _rest = line;
            for (int i = 0; i < skip; i++)
            {
                NextToken(out _);
            }
        }

        public bool Next(out ReadOnlySpan<char> key, out ReadOnlySpan<char> value)
        {
            if (!NextToken(out var token))
            {
                key = value = default;
                return false;
            }

            int colon = token.IndexOf(':');
            if (colon < 0)
            {
                throw new FormatException($"'{token}' is not a key:value pair.");
            }

            key = token.Slice(0, colon);
            if (colon < token.Length - 1)
            {
                value = token.Slice(colon + 1);
            }
            else if (!NextToken(out value))
            {
                throw new FormatException($"'{token}' has no value.");
            }

            return true;
        }

        private bool NextToken(out ReadOnlySpan<char> token)
        {
            _rest = _rest.TrimStart();
            int end = 0;
            while (end < _rest.Length && !char.IsWhiteSpace(_rest[end]))
            {
                end++;
            }

            token = _rest.Slice(0, end);
            _rest = _rest.Slice(end);
            return end > 0;
        }
    }

    private static string Required(Dictionary<string, string> pairs, string key)
        => pairs.TryGetValue(key, out var value) ? value : throw new FormatException($"no '{key}' field.");

    private static ulong Hex(string value) => Hex(value.AsSpan());

    /// <summary>A 32-bit field (a mask, a device): a wider value is an error of the line, never cut to its low bits.</summary>
    private static uint Hex32(ReadOnlySpan<char> value)
        => Hex(value) is ulong number && number <= uint.MaxValue ? (uint)number : throw new OverflowException($"'{value}' does not fit the field's 32 bits.");

    /// <summary>A non-negative int field (a watch descriptor, a mount id): a wider value is an error of the line.</summary>
    private static int HexInt(ReadOnlySpan<char> value)
        => Hex(value) is ulong number && number <= int.MaxValue ? (int)number : throw new OverflowException($"'{value}' does not fit the field (an int).");

    private static ulong Hex(ReadOnlySpan<char> value)
    {
        var span = value.Trim();
        if (span.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            span = span.Slice(2);
        }

        return ulong.TryParse(span, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong result)
            ? result
            : throw new FormatException($"'{value}' is not a hexadecimal number.");
    }

    /// <summary>An octal int as the kernel prints open flags ("0100002"); anything else, or nothing, is a FormatException.</summary>
    private static int Octal(string value)
    {
        if (value.Length == 0)
        {
            throw new FormatException("no octal value.");
        }

        long result = 0;
        foreach (char c in value)
        {
            if (c < '0' || c > '7')
            {
                throw new FormatException($"'{value}' is not an octal number.");
            }

            result = (result * 8) + (c - '0');
            if (result > int.MaxValue)
            {
                throw new OverflowException($"'{value}' is too large for open flags.");
            }
        }

        return (int)result;
    }

    /// <summary>"(599, 488147299)": seconds and nanoseconds.</summary>
    private static TimeSpan SecondsNanoseconds(string value)
    {
        var parts = value.Trim('(', ')', ' ').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
        {
            throw new FormatException($"'{value}' is not (seconds, nanoseconds).");
        }

        long seconds = long.Parse(parts[0], CultureInfo.InvariantCulture);
        long nanoseconds = long.Parse(parts[1], CultureInfo.InvariantCulture);
        // checked: a seconds field past TimeSpan's range must be an error, not wrap into a negative time.
        return TimeSpan.FromTicks(checked((seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100)));
    }
}
