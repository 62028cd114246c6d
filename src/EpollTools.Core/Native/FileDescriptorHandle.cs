using System;
using System.Runtime.InteropServices;

namespace EpollTools.Core.Native;

/// <summary>Owns one Linux file descriptor and closes it exactly once.</summary>
public sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle(int fd)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The fd number, also after closing (for messages); -1 if it never was valid.</summary>
    public int Number => (int)handle.ToInt64();

    protected override bool ReleaseHandle()
    {
        // close(2) must not be retried on EINTR on Linux: the fd is released either way.
        return NativeMethods.close((int)handle.ToInt64()) == 0;
    }
}
