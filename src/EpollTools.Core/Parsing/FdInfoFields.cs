using System;
using System.Collections.Generic;
using System.Globalization;

namespace EpollTools.Core.Parsing;

/// <summary>
/// How fdinfo prints its values (hexadecimal masks and devices, octal flags, "(seconds, nanoseconds)", lines of
/// key:value pairs), read for the parser and for each fd kind's own fields. A value that does not read throws
/// <see cref="FormatException"/> or <see cref="OverflowException"/>, which the parser turns into an error of the line.
/// </summary>
internal static class FdInfoFields
{
    /// <summary>
    /// The key:value pairs of a line, skipping <paramref name="skip"/> leading words. A key is a token ending in
    /// ':' (its value is the next token) or the part of a token before its first ':'.
    /// </summary>
    internal static Dictionary<string, string> Pairs(string line, int skip)
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
    internal ref struct PairReader
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

    internal static string Required(Dictionary<string, string> pairs, string key)
        => pairs.TryGetValue(key, out var value) ? value : throw new FormatException($"no '{key}' field.");

    internal static ulong Hex(string value) => Hex(value.AsSpan());

    /// <summary>A 32-bit field (a mask, a device): a wider value is an error of the line, never cut to its low bits.</summary>
    internal static uint Hex32(ReadOnlySpan<char> value)
        => Hex(value) is ulong number && number <= uint.MaxValue ? (uint)number : throw new OverflowException($"'{value}' does not fit the field's 32 bits.");

    /// <summary>A non-negative int field (a watch descriptor, a mount id): a wider value is an error of the line.</summary>
    internal static int HexInt(ReadOnlySpan<char> value)
        => Hex(value) is ulong number && number <= int.MaxValue ? (int)number : throw new OverflowException($"'{value}' does not fit the field (an int).");

    internal static ulong Hex(ReadOnlySpan<char> value)
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
    internal static int Octal(string value)
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
    internal static TimeSpan SecondsNanoseconds(string value)
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
