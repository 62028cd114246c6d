using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using static EpollTools.Core.Native.MultiplexerSyscallNumbers;

namespace EpollTools.Core.Waits;

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
    private const int OldSelectArgumentsSize = 20; // struct sel_arg_struct: five u32 (n, inp, outp, exp, tvp)
    private const string Unreadable = "not readable";

    /// <summary>The wait a system call number is in <paramref name="abi"/>'s table, or null if it is not a multiplexing wait.</summary>
    public static MultiplexerSyscall? Identify(SyscallAbi abi, long number) => abi switch
    {
        SyscallAbi.X64 => number switch
        {
            X64_epoll_wait => Native(MultiplexerCall.EpollWait),
            X64_epoll_pwait => Native(MultiplexerCall.EpollPwait),
            X64_epoll_pwait2 => Native(MultiplexerCall.EpollPwait2),
            X64_poll => Native(MultiplexerCall.Poll),
            X64_ppoll => Native(MultiplexerCall.Ppoll),
            X64_select => Native(MultiplexerCall.Select),
            X64_pselect6 => Native(MultiplexerCall.Pselect6),
            _ => null,
        },
        SyscallAbi.Arm64 => number switch
        {
            Generic_epoll_pwait => Native(MultiplexerCall.EpollPwait),
            Generic_epoll_pwait2 => Native(MultiplexerCall.EpollPwait2),
            Generic_ppoll => Native(MultiplexerCall.Ppoll),
            Generic_pselect6 => Native(MultiplexerCall.Pselect6),
            _ => null,
        },
        SyscallAbi.I386 => number switch
        {
            I386_select => new(MultiplexerCall.Select, "select", ArgumentLayout.Compat32, ArgumentsInMemory: true),
            I386__newselect => new(MultiplexerCall.Select, "_newselect", ArgumentLayout.Compat32),
            I386_poll => new(MultiplexerCall.Poll, "poll", ArgumentLayout.Compat32),
            I386_epoll_wait => new(MultiplexerCall.EpollWait, "epoll_wait", ArgumentLayout.Compat32),
            I386_pselect6 => new(MultiplexerCall.Pselect6, "pselect6", ArgumentLayout.Compat32),
            I386_ppoll => new(MultiplexerCall.Ppoll, "ppoll", ArgumentLayout.Compat32),
            I386_epoll_pwait => new(MultiplexerCall.EpollPwait, "epoll_pwait", ArgumentLayout.Compat32),
            I386_pselect6_time64 => new(MultiplexerCall.Pselect6, "pselect6_time64", ArgumentLayout.Compat32Time64),
            I386_ppoll_time64 => new(MultiplexerCall.Ppoll, "ppoll_time64", ArgumentLayout.Compat32Time64),
            I386_epoll_pwait2 => new(MultiplexerCall.EpollPwait2, "epoll_pwait2", ArgumentLayout.Compat32Time64),
            _ => null,
        },
        _ => null,
    };

    private static MultiplexerSyscall Native(MultiplexerCall call) => new(call, KernelName(call), ArgumentLayout.Native);

    /// <summary>Whether the call is one of epoll's waits (its first argument an epoll fd), not poll's or select's.</summary>
    public static bool IsEpoll(MultiplexerCall call) => call is MultiplexerCall.EpollWait or MultiplexerCall.EpollPwait or MultiplexerCall.EpollPwait2;

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

    /// <summary>Decodes the six raw arguments of a 64-bit program's <paramref name="call"/> (as /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall shows them).</summary>
    public static DecodedCall Decode(MultiplexerCall call, IReadOnlyList<ulong> args, MemoryReader read) =>
        Decode(Native(call), args, read);

    /// <summary>Decodes the six raw arguments of <paramref name="syscall"/> in its table's layout.</summary>
    public static DecodedCall Decode(MultiplexerSyscall syscall, IReadOnlyList<ulong> args, MemoryReader read)
    {
        var call = syscall.Call;
        var layout = syscall.Layout;
        if (layout != ArgumentLayout.Native)
        {
            args = args.Select(arg => (ulong)(uint)arg).ToArray(); // a 32-bit program's registers are 32 bits wide
        }

        if (syscall.ArgumentsInMemory)
        {
            Span<byte> packed = stackalloc byte[OldSelectArgumentsSize];
            if (!read(args[0], packed))
            {
                return new DecodedCall { Timeout = Unreadable, Note = "select's arguments could not be read from the process's memory" };
            }

            var unpacked = new ulong[6];
            for (int i = 0; i < 5; i++)
            {
                unpacked[i] = BinaryPrimitives.ReadUInt32LittleEndian(packed[(i * 4)..]);
            }

            args = unpacked;
        }

        switch (syscall.Call)
        {
            case MultiplexerCall.EpollWait:
            case MultiplexerCall.EpollPwait:
            {
                var (ms, text) = FromMilliseconds(AsInt(args[3]));
                return new DecodedCall { EpollFd = AsInt(args[0]), MaxEvents = AsInt(args[2]), TimeoutMilliseconds = ms, Timeout = text };
            }

            case MultiplexerCall.EpollPwait2:
            {
                var (ms, text, note) = ReadTimeSpec(args[3], layout, read);
                return new DecodedCall { EpollFd = AsInt(args[0]), MaxEvents = AsInt(args[2]), TimeoutMilliseconds = ms, Timeout = text, Note = note };
            }

            case MultiplexerCall.Poll:
            case MultiplexerCall.Ppoll:
            {
                var (ms, text, timeoutNote) = call == MultiplexerCall.Poll
                    ? WithoutNote(FromMilliseconds(AsInt(args[2])))
                    : ReadTimeSpec(args[2], layout, read);
                uint nfds = (uint)args[1];
                var (fds, fdsNote) = ReadPollFds(args[0], nfds, read);
                return new DecodedCall { Nfds = nfds, Fds = fds, TimeoutMilliseconds = ms, Timeout = text, Note = Notes(fdsNote, timeoutNote) };
            }

            default:
            {
                var (ms, text, timeoutNote) = call == MultiplexerCall.Select ? ReadTimeVal(args[4], layout, read) : ReadTimeSpec(args[4], layout, read);
                int nfds = AsInt(args[0]);
                int bits = Math.Clamp(nfds, 0, MaxSelectFds);
                var (readFds, readNote) = ReadFdSet(args[1], bits, layout, "read", read);
                var (writeFds, writeNote) = ReadFdSet(args[2], bits, layout, "write", read);
                var (exceptFds, exceptNote) = ReadFdSet(args[3], bits, layout, "except", read);
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

    /// <summary>
    /// Two signed words (seconds, then nano- or microseconds): 8 bytes each in __kernel_timespec, a 64-bit program's
    /// timeval and a 32-bit program's *_time64 calls; 4 bytes each in old_timespec32 and old_timeval32.
    /// </summary>
    private static bool ReadTimePair(ulong address, bool words32, MemoryReader read, out long seconds, out long fraction)
    {
        Span<byte> buffer = stackalloc byte[words32 ? 8 : 16];
        seconds = fraction = 0;
        if (!read(address, buffer))
        {
            return false;
        }

        seconds = words32 ? BinaryPrimitives.ReadInt32LittleEndian(buffer) : BinaryPrimitives.ReadInt64LittleEndian(buffer);
        fraction = words32 ? BinaryPrimitives.ReadInt32LittleEndian(buffer[4..]) : BinaryPrimitives.ReadInt64LittleEndian(buffer[8..]);
        return true;
    }

    private static (double?, string, string?) ReadTimeSpec(ulong address, ArgumentLayout layout, MemoryReader read)
    {
        if (address == 0)
        {
            return (-1, "infinite", null); // a NULL timespec blocks
        }

        if (!ReadTimePair(address, layout == ArgumentLayout.Compat32, read, out long seconds, out long nanoseconds))
        {
            return (null, Unreadable, "the timeout's timespec could not be read from the process's memory");
        }

        return seconds < 0 || nanoseconds is < 0 or >= 1_000_000_000
            ? (null, "invalid", $"the timespec holds {seconds} s {nanoseconds} ns, which the kernel refuses (EINVAL)")
            : Finite(seconds * 1000.0 + nanoseconds / 1e6);
    }

    private static (double?, string, string?) ReadTimeVal(ulong address, ArgumentLayout layout, MemoryReader read)
    {
        if (address == 0)
        {
            return (-1, "infinite", null);
        }

        // Select has no *_time64 call: a 32-bit program's timeval is always old_timeval32.
        if (!ReadTimePair(address, layout != ArgumentLayout.Native, read, out long seconds, out long microseconds))
        {
            return (null, Unreadable, "the timeout's timeval could not be read from the process's memory");
        }

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

    private static (int[], string?) ReadFdSet(ulong address, int bits, ArgumentLayout layout, string name, MemoryReader read)
    {
        if (address == 0 || bits == 0)
        {
            return (Array.Empty<int>(), null); // a NULL set watches nothing
        }

        // fd_set is an array of unsigned long (compat_ulong_t for a 32-bit program); on a little-endian machine fd n is
        // bit n % 8 of byte n / 8 either way, and only the words the kernel reads are read, so that a set at the end
        // of a mapping is not refused for bytes past it.
        int wordBytes = layout == ArgumentLayout.Native ? 8 : 4;
        int wordBits = wordBytes * 8;
        var buffer = new byte[(bits + wordBits - 1) / wordBits * wordBytes];
        if (!read(address, buffer))
        {
            return (Array.Empty<int>(), $"the {name} set could not be read from the process's memory");
        }

        return (FdSet.Members(buffer, bits), null);
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
