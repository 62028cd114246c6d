using System;
using System.Linq;

namespace EpollTools.Core;

/// <summary>
/// The registrations of one instance, indexed by fd: fds are small and dense, so an array beats a hash table in the
/// epoll_ctl path, where any memory touched right after the syscall is likely to miss the cache. Not thread-safe.
/// </summary>
internal sealed class RegistrationTable
{
    private EpollRegistration?[] _byFd = new EpollRegistration?[64];

    public int Count { get; private set; }

    public EpollRegistration? Get(int fd) => (uint)fd < (uint)_byFd.Length ? _byFd[fd] : null;

    public void Set(EpollRegistration registration)
    {
        int fd = registration.Fd;
        if (fd >= _byFd.Length)
        {
            Array.Resize(ref _byFd, Math.Max(fd + 1, _byFd.Length * 2));
        }

        Count += _byFd[fd] is null ? 1 : 0;
        _byFd[fd] = registration;
    }

    public void Remove(int fd)
    {
        if ((uint)fd < (uint)_byFd.Length && _byFd[fd] is not null)
        {
            _byFd[fd] = null;
            Count--;
        }
    }

    public void Clear()
    {
        Array.Clear(_byFd);
        Count = 0;
    }

    /// <summary>The registration whose data is <paramref name="data"/>: a scan, for data other than the fd.</summary>
    public EpollRegistration? FindByData(ulong data) => Array.Find(_byFd, r => r is not null && r.Data == data);

    /// <summary>The registrations in fd order.</summary>
    public EpollRegistration[] ToArray() => _byFd.Where(r => r is not null).ToArray()!;
}

/// <summary>An operation was attempted on an epoll instance that was closed.</summary>
public sealed class EpollInstanceClosedException : ObjectDisposedException
{
    public EpollInstanceClosedException(int fd)
        : base($"epoll fd {fd}", $"The epoll instance (fd {fd}) is closed.")
    {
        Fd = fd;
    }

    public int Fd { get; }
}
