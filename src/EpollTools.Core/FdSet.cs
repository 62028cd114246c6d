using System;
using System.Collections.Generic;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>
/// select's fd_set (include/uapi/linux/posix_types.h, __kernel_fd_set: FD_SETSIZE bits in unsigned longs). Fd n is
/// bit n % 64 of word n / 64 in a 64-bit program's set, bit n % 32 of word n / 32 in a 32-bit one's; on a
/// little-endian machine both are bit n % 8 of byte n / 8. The one place that writes and reads them: Wait-Select, the
/// cost measurement, and the decoder of another process's select.
/// </summary>
public static class FdSet
{
    /// <summary>Bits in a word of this process's (64-bit) fd_set.</summary>
    public const int WordBits = 64;

    /// <summary>Words in a whole fd_set of this process.</summary>
    public const int Words = SelectConstants.FD_SETSIZE / WordBits;

    /// <summary>Clears <paramref name="set"/> and adds each of <paramref name="fds"/> (each below FD_SETSIZE).</summary>
    public static void Fill(Span<ulong> set, IEnumerable<int> fds)
    {
        set.Clear();
        foreach (int fd in fds)
        {
            Add(set, fd);
        }
    }

    public static void Add(Span<ulong> set, int fd) => set[fd / WordBits] |= 1UL << (fd % WordBits);

    public static bool Contains(ReadOnlySpan<ulong> set, int fd) => (set[fd / WordBits] & (1UL << (fd % WordBits))) != 0;

    /// <summary>The fds below <paramref name="bits"/> in a set read as bytes from another process (either word size).</summary>
    public static int[] Members(ReadOnlySpan<byte> set, int bits)
    {
        var fds = new List<int>();
        for (int fd = 0; fd < bits; fd++)
        {
            if ((set[fd / 8] & (1 << (fd % 8))) != 0)
            {
                fds.Add(fd);
            }
        }

        return fds.ToArray();
    }
}
