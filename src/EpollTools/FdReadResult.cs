using System.Text;
using EpollTools.Core;

namespace EpollTools;

/// <summary>What Read-Fd read from one fd.</summary>
public sealed class FdReadResult
{
    internal FdReadResult(LinuxFd fd, byte[] bytes, ulong? value)
    {
        Fd = fd.Fd;
        Kind = fd.Kind;
        Bytes = bytes;
        Value = value;
    }

    public int Fd { get; }

    public FdKind Kind { get; }

    /// <summary>How many bytes read(2) returned; 0 means end of file.</summary>
    public int Count => Bytes.Length;

    public byte[] Bytes { get; }

    /// <summary>The bytes as UTF-8 text (counters are not text: null for eventfd and timerfd).</summary>
    public string? Text => Value is null ? Encoding.UTF8.GetString(Bytes) : null;

    /// <summary>The eventfd counter or the timerfd expiration count; null for byte streams.</summary>
    public ulong? Value { get; }

    /// <summary>read(2) returned 0: the writer closed its end.</summary>
    public bool EndOfFile => Value is null && Bytes.Length == 0;
}
