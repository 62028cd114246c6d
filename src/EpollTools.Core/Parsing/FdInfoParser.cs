using System;
using System.Collections.Generic;
using System.Globalization;
using EpollTools.Core.Kinds;

namespace EpollTools.Core.Parsing;

/// <summary>
/// Parses /proc/&lt;pid&gt;/fdinfo/&lt;fd&gt; text (Documentation/filesystems/proc.rst, "Information about open
/// files"). A pure function of the text; it never throws: what it cannot read goes to <see cref="ParsedFdInfo.Errors"/>.
/// </summary>
public static class FdInfoParser
{
    public static ParsedFdInfo Parse(string text)
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

        public ParsedFdInfo Result { get; } = new();

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
                    Result.EpollTargets.Add(EpollKind.ParseLine(rawLine, _epollOffsets));
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

    /// <summary>
    /// One line that is not an epoll registration: a kind's own whole line (inotify, fanotify), else a "key: value"
    /// field, the common ones read here and the rest offered to the kinds (<see cref="FdKinds"/>); every field is kept
    /// in <see cref="ParsedFdInfo.Fields"/>, known or not.
    /// </summary>
    private static void ParseLine(ParsedFdInfo info, string line)
    {
        foreach (var kind in FdKinds.All)
        {
            if (kind.TryParseLine(info, line))
            {
                return;
            }
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
                info.Flags = FdInfoFields.Octal(value);
                break;
            case "mnt_id":
                info.MntId = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "ino":
                info.Ino = ulong.Parse(value, CultureInfo.InvariantCulture);
                break;
            default:
                // A kind's field, or kept in Fields only: lock:, tty-index:, and whatever later kernels add.
                foreach (var kind in FdKinds.All)
                {
                    if (kind.TryParseField(info, key, value))
                    {
                        break;
                    }
                }

                break;
        }
    }
}
