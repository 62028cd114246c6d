using System;
using EpollTools.Core.Native;

namespace EpollTools.Core.ProcFiles;

/// <summary>Another process's memory and executable: what decoding a system call's arguments reads.</summary>
public static class ProcessMemory
{
    /// <summary>
    /// Copies memory of another process with process_vm_readv (which needs the ptrace attach access that
    /// /proc/&lt;pid&gt;/mem needs, and opens no fd). False if any byte could not be read.
    /// </summary>
    public static unsafe bool Read(int pid, ulong address, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return true;
        }

        fixed (byte* buffer = destination)
        {
            var local = new NativeMethods.IoVec { Base = buffer, Length = (nuint)destination.Length };
            var remote = new NativeMethods.IoVec { Base = (void*)address, Length = (nuint)destination.Length };
            return NativeMethods.process_vm_readv(pid, &local, 1, &remote, 1, 0) == destination.Length;
        }
    }

    /// <summary>
    /// The ELF class and machine of the process's executable (e_ident[EI_CLASS] and e_machine), which say which
    /// system call table it calls through; null when the executable cannot be read (kernel threads have none).
    /// </summary>
    public static unsafe (byte ElfClass, ushort Machine)? ReadElfMachine(int pid)
    {
        int fd = NativeMethods.open($"{ProcFs.Root}/{pid}/exe", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            return null;
        }

        using var handle = new FileDescriptorHandle(fd);
        const int headerStart = ElfConstants.E_MACHINE + sizeof(ushort);
        byte* header = stackalloc byte[headerStart];
        if (NativeMethods.read(fd, header, headerStart) != headerStart)
        {
            return null;
        }

        // e_machine is in the file's byte order; every architecture this module runs on is little-endian.
        return (header[ElfConstants.EI_CLASS], (ushort)(header[ElfConstants.E_MACHINE] | header[ElfConstants.E_MACHINE + 1] << 8));
    }
}
