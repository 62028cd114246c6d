using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>
/// The fds one select or poll call waits on, held for the length of the call: each owner's handle is referenced, so
/// closing it meanwhile (from another runspace) defers the close(2) until the call is over and its number cannot be
/// given to another file while the kernel still watches it; and the close signals of the module's own fd objects are
/// gathered, for the call to watch beside its fds, so that such a close wakes it at once. Raw fd numbers have no
/// owner and nothing to hold.
/// </summary>
public sealed class FdHolds : IDisposable
{
    private readonly List<(SafeHandle Handle, HandleInUse InUse, object Owner)> _held = new();
    private readonly List<(WaitCanceller Signal, object Owner, int Fd)> _signals = new();

    private FdHolds()
    {
    }

    /// <summary>The close signals to watch (one eventfd each), in the order of their owners.</summary>
    public IEnumerable<WaitCanceller> Signals
    {
        get
        {
            foreach (var (signal, _, _) in _signals)
            {
                yield return signal;
            }
        }
    }

    /// <summary>
    /// Holds the fds of <paramref name="owners"/>: the module's <see cref="LinuxFd"/> and <see cref="EpollInstance"/>
    /// objects, and any <see cref="SafeHandle"/> (a socket's, a file stream's); other values (null for a raw number)
    /// hold nothing. <paramref name="wakeOnClose"/> gathers the close signals too (each is an eventfd made on the
    /// first wait on its owner): a call that does not block has nothing to wake. Throws
    /// <see cref="ObjectDisposedException"/> if one is closed already.
    /// </summary>
    public static FdHolds Take(IEnumerable<(object? Owner, int Fd)> owners, bool wakeOnClose)
    {
        var holds = new FdHolds();
        try
        {
            foreach (var (owner, fd) in owners)
            {
                var (handle, waitable) = owner switch
                {
                    LinuxFd linux => (linux.Waitable.Handle, linux.Waitable),
                    EpollInstance instance => (instance.Waitable.Handle, instance.Waitable),
                    SafeHandle safe => (safe, (WaitableFd?)null),
                    _ => ((SafeHandle?)null, (WaitableFd?)null),
                };
                if (handle is null)
                {
                    continue;
                }

                holds.Hold(handle, owner!, fd);
                if (waitable is not null && wakeOnClose)
                {
                    var signal = waitable.CloseSignal() ?? throw Closed(owner!, fd);
                    holds._signals.Add((signal, owner!, fd));
                }
            }
        }
        catch
        {
            holds.Dispose();
            throw;
        }

        return holds;
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> if an owner was closed while the call waited (its result would be about a number the caller no longer owns).</summary>
    public void ThrowIfAnyClosed()
    {
        foreach (var (signal, owner, fd) in _signals)
        {
            if (signal.IsCancelled)
            {
                throw Closed(owner, fd, during: true);
            }
        }

        foreach (var (handle, _, owner) in _held)
        {
            if (handle.IsClosed || (owner is LinuxFd { IsClosed: true } or EpollInstance { IsClosed: true }))
            {
                throw Closed(owner, -1, during: true);
            }
        }
    }

    public void Dispose()
    {
        foreach (var (_, inUse, _) in _held)
        {
            inUse.Dispose();
        }

        _held.Clear();
        _signals.Clear();
    }

    private void Hold(SafeHandle handle, object owner, int fd)
    {
        var inUse = HandleInUse.TryTake(handle);
        _held.Add(inUse.IsHeld ? (handle, inUse, owner) : throw Closed(owner, fd));
    }

    private static ObjectDisposedException Closed(object owner, int fd, bool during = false)
    {
        string which = fd >= 0 ? $"fd {fd}" : "An fd";
        return new ObjectDisposedException(owner.ToString(), during
            ? $"{which} was closed while the call waited on it: what the kernel said of it no longer applies to any fd the caller owns."
            : $"{which} is closed.");
    }
}
