using System;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// Names in /proc directories as the *at() calls and getdents64 take and give them: NUL-terminated bytes on the stack,
/// an fd number in decimal. Per-fd calls run once per registration, so no string is made for them.
/// </summary>
internal static class DirectoryEntryNames
{
    /// <summary>A NUL-terminated name of decimal digits as an fd number; null for any other name.</summary>
    public static unsafe int? ParseNumber(byte* name)
    {
        long value = 0;
        int length = 0;
        for (; name[length] != 0; length++)
        {
            byte c = name[length];
            if (c < '0' || c > '9' || length >= 10)
            {
                return null;
            }

            value = (value * 10) + (c - '0');
        }

        return length > 0 && value <= int.MaxValue ? (int)value : null;
    }

    /// <summary>Room for an int in decimal, its sign and the NUL.</summary>
    public const int NameSize = 12;

    public static unsafe void WriteName(int fd, byte* name)
    {
        var span = new Span<byte>(name, NameSize);
        fd.TryFormat(span, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        span[written] = 0;
    }

    /// <summary>A short ASCII file name ("fd", "stat", "fdinfo"), NUL-terminated.</summary>
    public static unsafe void WriteName(string file, byte* name)
    {
        var span = new Span<byte>(name, NameSize);
        int written = System.Text.Encoding.ASCII.GetBytes(file, span);
        span[written] = 0;
    }
}
