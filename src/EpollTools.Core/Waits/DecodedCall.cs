using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using static EpollTools.Core.Native.MultiplexerSyscallNumbers;

namespace EpollTools.Core.Waits;

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

/// <summary>How a call's arguments are laid out in the caller's memory.</summary>
public enum ArgumentLayout
{
    /// <summary>A 64-bit program: fd_set words of 8 bytes, __kernel_timespec and timeval of 16.</summary>
    Native,

    /// <summary>A 32-bit x86 program's calls with the old times: 32-bit pointers, fd_set words of 4 bytes, timespec and timeval of 8.</summary>
    Compat32,

    /// <summary>A 32-bit x86 program's calls with 64-bit times (the *_time64 calls, epoll_pwait2): timespec of 16 bytes.</summary>
    Compat32Time64,
}

/// <summary>A multiplexing wait as one table numbers it: the call, its name in that table, and its argument layout.</summary>
/// <param name="ArgumentsInMemory">i386's old select: its one argument points to the five (struct sel_arg_struct).</param>
public readonly record struct MultiplexerSyscall(MultiplexerCall Call, string Name, ArgumentLayout Layout, bool ArgumentsInMemory = false);
