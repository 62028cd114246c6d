using System;
using System.Runtime.InteropServices;

namespace EpollTools.Core.Native;

/// <summary>
/// A SafeHandle's fd kept open while a system call uses its number (DangerousAddRef until Dispose, then
/// DangerousRelease): a close from another thread waits for it, so the number cannot be given to another file under
/// the call. Dispose exactly once; never copy it.
/// </summary>
internal readonly struct HandleInUse : IDisposable
{
    private readonly SafeHandle? _handle;

    private HandleInUse(SafeHandle handle) => _handle = handle;

    /// <summary>Whether a handle is held (false for one already closed, from <see cref="TryTake"/>).</summary>
    public bool IsHeld => _handle is not null;

    /// <summary>The handle's fd kept open until Dispose; <see cref="ObjectDisposedException"/> if it is closed already.</summary>
    public static HandleInUse Take(SafeHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        return added ? new HandleInUse(handle) : default;
    }

    /// <summary>As <see cref="Take"/>, but nothing held (IsHeld false) for no handle or one closed already.</summary>
    public static HandleInUse TryTake(SafeHandle? handle)
    {
        try
        {
            return handle is null ? default : Take(handle);
        }
        catch (ObjectDisposedException)
        {
            return default;
        }
    }

    public void Dispose() => _handle?.DangerousRelease();
}
