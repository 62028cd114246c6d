using System.Runtime.InteropServices;
using EpollTools.Core.Native;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Waits;

/// <summary>Which <see cref="SyscallAbi"/> a machine or a program uses.</summary>
public static class SyscallAbis
{
    /// <summary>The table of 64-bit programs on this machine.</summary>
    public static SyscallAbi OfMachine(Architecture architecture) => architecture switch
    {
        Architecture.X64 => SyscallAbi.X64,
        Architecture.Arm64 => SyscallAbi.Arm64,
        _ => SyscallAbi.Other,
    };

    /// <summary>
    /// The table <paramref name="pid"/> calls through, from its executable's ELF header: a 32-bit x86 program on an
    /// x86-64 kernel uses the i386 numbers and 32-bit layouts. Null when the executable cannot be read.
    /// </summary>
    public static SyscallAbi? OfProcess(int pid) => ProcessMemory.ReadElfMachine(pid) is var (elfClass, machine) ? OfElf(elfClass, machine) : null;

    /// <summary>The table of a program from its ELF class and machine.</summary>
    public static SyscallAbi OfElf(byte elfClass, ushort machine) => (elfClass, machine) switch
    {
        (ElfConstants.ELFCLASS64, ElfConstants.EM_X86_64) => SyscallAbi.X64,
        (ElfConstants.ELFCLASS64, ElfConstants.EM_AARCH64) => SyscallAbi.Arm64,
        (ElfConstants.ELFCLASS32, ElfConstants.EM_386) => SyscallAbi.I386,
        _ => SyscallAbi.Other, // x32 (ELFCLASS32 with EM_X86_64), 32-bit ARM...
    };
}
