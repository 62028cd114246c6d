using System;
using System.Runtime.InteropServices;

namespace EpollTools.Core.Native;

/// <summary>
/// The layout of struct epoll_event, which differs by architecture: include/uapi/linux/eventpoll.h marks it
/// __attribute__((packed)) on x86-64 only (12 bytes, data at offset 4); elsewhere the 64-bit data field is
/// naturally aligned (16 bytes, data at offset 8). 32-bit x86 also has 4-byte alignment for u64, so 12 bytes.
/// </summary>
public readonly struct EpollEventLayout
{
    public EpollEventLayout(int size, int dataOffset)
    {
        Size = size;
        DataOffset = dataOffset;
    }

    /// <summary>The largest sizeof(struct epoll_event) of any architecture, for buffers sized before the layout is known.</summary>
    public const int MaxSize = 16;

    /// <summary>sizeof(struct epoll_event).</summary>
    public int Size { get; }

    /// <summary>offsetof(struct epoll_event, data).</summary>
    public int DataOffset { get; }

    /// <summary>The layout of the architecture this process runs on.</summary>
    public static EpollEventLayout Current { get; } = For(RuntimeInformation.ProcessArchitecture);

    public static EpollEventLayout For(Architecture architecture) => architecture switch
    {
        Architecture.X64 or Architecture.X86 => new EpollEventLayout(12, 4),
        _ => new EpollEventLayout(16, 8),
    };

    public void Write(Span<byte> destination, EpollEvents events, ulong data)
    {
        destination.Slice(0, Size).Clear();
        uint bits = (uint)events;
        MemoryMarshal.Write(destination, in bits);
        MemoryMarshal.Write(destination.Slice(DataOffset, 8), in data);
    }

    public (EpollEvents Events, ulong Data) Read(ReadOnlySpan<byte> source)
    {
        var events = (EpollEvents)MemoryMarshal.Read<uint>(source);
        var data = MemoryMarshal.Read<ulong>(source.Slice(DataOffset, 8));
        return (events, data);
    }
}
