using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using EpollTools.Core.Native;
using static EpollTools.Core.Native.MultiplexerSyscallNumbers;

namespace EpollTools.Core.Proc;

/// <summary>Copies <c>destination.Length</c> bytes of the inspected process's memory at <c>address</c>; false if it cannot.</summary>
public delegate bool MemoryReader(ulong address, Span<byte> destination);

/// <summary>A multiplexing call's arguments, decoded, with what they point to read from the process's memory.</summary>
public sealed class DecodedCall
{
    public int? EpollFd { get; init; }

    public int? MaxEvents { get; init; }

    public long? Nfds { get; init; }

    /// <summary>The fds waited on with the poll events asked for (poll's array, or select's sets mapped to IN/OUT/PRI).</summary>
    public List<(int Fd, int Events)> Fds { get; init; } = new();

    public int[] ReadFds { get; init; } = Array.Empty<int>();

    public int[] WriteFds { get; init; } = Array.Empty<int>();

    public int[] ExceptFds { get; init; } = Array.Empty<int>();

    public double? TimeoutMilliseconds { get; init; }

    public string Timeout { get; init; } = string.Empty;

    public string? Note { get; init; }
}

/// <summary>
/// Which system call numbers are the multiplexing waits, and what their arguments mean. Pure: the process's memory
/// is reached only through the <see cref="MemoryReader"/> it is given, so captured samples and fakes test it.
/// </summary>
public static class MultiplexerCallDecoder
{
    /// <summary>poll entries read at most (512 KiB of pollfd); a longer array is cut, and the note says so.</summary>
    public const int MaxPollEntries = 65536;

    /// <summary>select fds read at most per set (128 KiB of fd_set); select's nfds is rarely past FD_SETSIZE.</summary>
    public const int MaxSelectFds = 1 << 20;

    private const int PollFdSize = 8;      // struct pollfd: int fd; short events; short revents
    private const int TimeSpecSize = 16;   // struct __kernel_timespec: s64 tv_sec; long long tv_nsec
    private const int TimeValSize = 16;    // struct __kernel_old_timeval on 64-bit: long tv_sec; long tv_usec
    private const string Unreadable = "not readable";

    /// <summary>The call a system call number is on this architecture, or null if it is not a multiplexing wait.</summary>
    public static MultiplexerCall? Identify(Architecture architecture, long number) => architecture switch
    {
        Architecture.X64 => number switch
        {
            X64_epoll_wait => MultiplexerCall.EpollWait,
            X64_epoll_pwait => MultiplexerCall.EpollPwait,
            X64_epoll_pwait2 => MultiplexerCall.EpollPwait2,
            X64_poll => MultiplexerCall.Poll,
            X64_ppoll => MultiplexerCall.Ppoll,
            X64_select => MultiplexerCall.Select,
            X64_pselect6 => MultiplexerCall.Pselect6,
            _ => null,
        },
        Architecture.Arm64 => number switch
        {
            Generic_epoll_pwait => MultiplexerCall.EpollPwait,
            Generic_epoll_pwait2 => MultiplexerCall.EpollPwait2,
            Generic_ppoll => MultiplexerCall.Ppoll,
            Generic_pselect6 => MultiplexerCall.Pselect6,
            _ => null,
        },
        _ => null,
    };

    /// <summary>The call's name as the kernel and man pages write it.</summary>
    public static string KernelName(MultiplexerCall call) => call switch
    {
        MultiplexerCall.EpollWait => "epoll_wait",
        MultiplexerCall.EpollPwait => "epoll_pwait",
        MultiplexerCall.EpollPwait2 => "epoll_pwait2",
        MultiplexerCall.Poll => "poll",
        MultiplexerCall.Ppoll => "ppoll",
        MultiplexerCall.Select => "select",
        _ => "pselect6",
    };

    /// <summary>Decodes the six raw arguments of <paramref name="call"/> (as /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall shows them).</summary>
    public static DecodedCall Decode(MultiplexerCall call, IReadOnlyList<ulong> args, MemoryReader read)
    {
        switch (call)
        {
            case MultiplexerCall.EpollWait:
            case MultiplexerCall.EpollPwait:
            {
                var (ms, text) = FromMilliseconds(AsInt(args[3]));
                return new DecodedCall { EpollFd = AsInt(args[0]), MaxEvents = AsInt(args[2]), TimeoutMilliseconds = ms, Timeout = text };
            }

            case MultiplexerCall.EpollPwait2:
            {
                var (ms, text, note) = ReadTimeSpec(args[3], read);
                return new DecodedCall { EpollFd = AsInt(args[0]), MaxEvents = AsInt(args[2]), TimeoutMilliseconds = ms, Timeout = text, Note = note };
            }

            case MultiplexerCall.Poll:
            case MultiplexerCall.Ppoll:
            {
                var (ms, text, timeoutNote) = call == MultiplexerCall.Poll
                    ? WithoutNote(FromMilliseconds(AsInt(args[2])))
                    : ReadTimeSpec(args[2], read);
                uint nfds = (uint)args[1];
                var (fds, fdsNote) = ReadPollFds(args[0], nfds, read);
                return new DecodedCall { Nfds = nfds, Fds = fds, TimeoutMilliseconds = ms, Timeout = text, Note = Notes(fdsNote, timeoutNote) };
            }

            default:
            {
                var (ms, text, timeoutNote) = call == MultiplexerCall.Select ? ReadTimeVal(args[4], read) : ReadTimeSpec(args[4], read);
                int nfds = AsInt(args[0]);
                int bits = Math.Clamp(nfds, 0, MaxSelectFds);
                var (readFds, readNote) = ReadFdSet(args[1], bits, "read", read);
                var (writeFds, writeNote) = ReadFdSet(args[2], bits, "write", read);
                var (exceptFds, exceptNote) = ReadFdSet(args[3], bits, "except", read);
                string? cut = nfds > MaxSelectFds ? $"nfds {nfds}: only fds below {MaxSelectFds} were read" : null;
                return new DecodedCall
                {
                    Nfds = nfds,
                    Fds = MergeSets(readFds, writeFds, exceptFds),
                    ReadFds = readFds,
                    WriteFds = writeFds,
                    ExceptFds = exceptFds,
                    TimeoutMilliseconds = ms,
                    Timeout = text,
                    Note = Notes(cut, readNote, writeNote, exceptNote, timeoutNote),
                };
            }
        }
    }

    /// <summary>A timeout in milliseconds in words, in the calls' convention (negative: infinite).</summary>
    public static string DescribeTimeout(double milliseconds) => milliseconds switch
    {
        < 0 => "infinite",
        0 => "0 (returns at once)",
        < 1000 => milliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms",
        _ => (milliseconds / 1000).ToString("0.###", CultureInfo.InvariantCulture) + " s",
    };

    private static int AsInt(ulong register) => unchecked((int)(uint)register);

    private static (double?, string) FromMilliseconds(int ms) => (ms < 0 ? -1 : ms, DescribeTimeout(ms));

    private static (double?, string, string?) WithoutNote((double?, string) timeout) => (timeout.Item1, timeout.Item2, null);

    private static (double?, string, string?) ReadTimeSpec(ulong address, MemoryReader read)
    {
        if (address == 0)
        {
            return (-1, "infinite", null); // a NULL timespec blocks
        }

        Span<byte> buffer = stackalloc byte[TimeSpecSize];
        if (!read(address, buffer))
        {
            return (null, Unreadable, "the timeout's timespec could not be read from the process's memory");
        }

        long seconds = BinaryPrimitives.ReadInt64LittleEndian(buffer);
        long nanoseconds = BinaryPrimitives.ReadInt64LittleEndian(buffer[8..]);
        return seconds < 0 || nanoseconds is < 0 or >= 1_000_000_000
            ? (null, "invalid", $"the timespec holds {seconds} s {nanoseconds} ns, which the kernel refuses (EINVAL)")
            : Finite(seconds * 1000.0 + nanoseconds / 1e6);
    }

    private static (double?, string, string?) ReadTimeVal(ulong address, MemoryReader read)
    {
        if (address == 0)
        {
            return (-1, "infinite", null);
        }

        Span<byte> buffer = stackalloc byte[TimeValSize];
        if (!read(address, buffer))
        {
            return (null, Unreadable, "the timeout's timeval could not be read from the process's memory");
        }

        long seconds = BinaryPrimitives.ReadInt64LittleEndian(buffer);
        long microseconds = BinaryPrimitives.ReadInt64LittleEndian(buffer[8..]);
        return seconds < 0 || microseconds < 0
            ? (null, "invalid", $"the timeval holds {seconds} s {microseconds} us, which the kernel refuses (EINVAL)")
            : Finite(seconds * 1000.0 + microseconds / 1e3);
    }

    private static (double?, string, string?) Finite(double ms) => (ms, DescribeTimeout(ms), null);

    private static (List<(int, int)>, string?) ReadPollFds(ulong address, uint nfds, MemoryReader read)
    {
        var fds = new List<(int, int)>();
        int count = (int)Math.Min(nfds, MaxPollEntries);
        if (count == 0)
        {
            return (fds, null);
        }

        var buffer = new byte[count * PollFdSize];
        if (!read(address, buffer))
        {
            return (fds, "the pollfd array could not be read from the process's memory");
        }

        int ignored = 0;
        for (int i = 0; i < count; i++)
        {
            var entry = buffer.AsSpan(i * PollFdSize, PollFdSize);
            int fd = BinaryPrimitives.ReadInt32LittleEndian(entry);
            int events = (ushort)BinaryPrimitives.ReadInt16LittleEndian(entry[4..]);
            if (fd < 0)
            {
                ignored++; // the kernel skips negative fds: a common way to switch an entry off
                continue;
            }

            fds.Add((fd, events));
        }

        string? note = ignored switch
        {
            0 => null,
            1 => "1 entry with a negative fd (the kernel ignores it)",
            _ => $"{ignored} entries with a negative fd (the kernel ignores them)",
        };
        return (fds, nfds > MaxPollEntries ? Notes($"only the first {MaxPollEntries} of {nfds} entries were read", note) : note);
    }

    private static (int[], string?) ReadFdSet(ulong address, int bits, string name, MemoryReader read)
    {
        if (address == 0 || bits == 0)
        {
            return (Array.Empty<int>(), null); // a NULL set watches nothing
        }

        var buffer = new byte[(bits + 63) / 64 * 8]; // fd_set is an array of unsigned long
        if (!read(address, buffer))
        {
            return (Array.Empty<int>(), $"the {name} set could not be read from the process's memory");
        }

        var fds = new List<int>();
        for (int fd = 0; fd < bits; fd++)
        {
            if ((buffer[fd / 8] & (1 << (fd % 8))) != 0)
            {
                fds.Add(fd);
            }
        }

        return (fds.ToArray(), null);
    }

    private static List<(int, int)> MergeSets(int[] readFds, int[] writeFds, int[] exceptFds)
    {
        // fs/select.c: the read set waits for POLLIN, the write set for POLLOUT, the except set for POLLPRI.
        var masks = new SortedDictionary<int, int>();
        foreach (var (set, mask) in new[] { (readFds, (int)PollConstants.POLLIN), (writeFds, PollConstants.POLLOUT), (exceptFds, PollConstants.POLLPRI) })
        {
            foreach (int fd in set)
            {
                masks[fd] = masks.GetValueOrDefault(fd) | mask;
            }
        }

        return masks.Select(entry => (entry.Key, entry.Value)).ToList();
    }

    /// <summary>The notes that apply, in one line; null when none does.</summary>
    private static string? Notes(params string?[] notes)
    {
        var present = notes.Where(note => note is not null).ToArray();
        return present.Length == 0 ? null : string.Join("; ", present);
    }
}
