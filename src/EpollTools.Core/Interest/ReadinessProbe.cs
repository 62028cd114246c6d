using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using EpollTools.Core.Native;

namespace EpollTools.Core.Interest;

/// <summary>The kernel has no pidfd_getfd (before Linux 5.6), so readiness cannot be read.</summary>
public sealed class ReadinessNotSupportedException : Exception
{
    public ReadinessNotSupportedException()
        : base("This kernel has no pidfd_open/pidfd_getfd (Linux 5.3 and 5.6), which reading another process's readiness needs.")
    {
    }
}

/// <summary>
/// What is ready now on another process's fds, without touching its epoll instances: the fd is copied into this
/// process with pidfd_getfd, the copy is polled with a zero timeout and closed at once. Polling never consumes
/// anything (it is what epoll itself asks each file), so edge-triggered and one-shot registrations stay as they are.
/// Holds one pidfd per process asked about, closed on Dispose.
/// </summary>
public sealed class ReadinessProbe : IDisposable
{
    /// <summary>Every readiness bit poll reports: IN, PRI, OUT and RDHUP asked for, ERR, HUP and NVAL always given.</summary>
    private const short AllEvents = PollConstants.POLLIN | PollConstants.POLLPRI | PollConstants.POLLOUT | PollConstants.POLLRDHUP;

    private readonly Dictionary<int, FileDescriptorHandle> _pidfds = new();
    private readonly List<int> _denied = new();

    /// <summary>The processes whose fds could not be copied (no ptrace attach access), in the order met.</summary>
    public IReadOnlyList<int> DeniedPids => _denied;

    /// <summary>
    /// The events ready now on fd <paramref name="fd"/> of <paramref name="pid"/>, or null when it cannot be told: the
    /// fd or the process is gone, the copy is not the file <paramref name="isRegisteredFile"/> expects (the fd changed
    /// since it was judged), or the process may not be attached to (then it is added to <see cref="DeniedPids"/>).
    /// Throws <see cref="ReadinessNotSupportedException"/> on kernels without pidfd_getfd.
    /// </summary>
    /// <param name="isRegisteredFile">Given the copy's fd number in this process, whether it is the registered file.</param>
    public unsafe EpollEvents? Probe(int pid, int fd, Func<int, bool> isRegisteredFile)
    {
        if (_denied.Contains(pid) || PidFd(pid) is not FileDescriptorHandle pidfd)
        {
            return null;
        }

        long copy = NativeMethods.syscall(PidFdConstants.SYS_pidfd_getfd, pidfd.DangerousGetHandle().ToInt32(), fd, 0, 0, 0);
        if (copy < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                Errno.EBADF or Errno.ESRCH => null, // the fd was closed, or the process exited, meanwhile
                Errno.EPERM or Errno.EACCES => Deny(pid),
                Errno.ENOSYS => throw new ReadinessNotSupportedException(),
                _ => throw new LinuxErrorException(errno, $"pidfd_getfd({pid}, {fd})"),
            };
        }

        using var handle = new FileDescriptorHandle((int)copy);
        if (!isRegisteredFile((int)copy))
        {
            return null;
        }

        var entry = new NativeMethods.PollFd { Fd = (int)copy, Events = AllEvents };
        int rc = NativeMethods.poll(&entry, 1, 0);
        return rc < 0 ? throw new LinuxErrorException(Marshal.GetLastPInvokeError(), "poll", fd) : (EpollEvents)(ushort)entry.REvents;
    }

    public void Dispose()
    {
        foreach (var handle in _pidfds.Values)
        {
            handle.Dispose();
        }

        _pidfds.Clear();
    }

    private EpollEvents? Deny(int pid)
    {
        _denied.Add(pid);
        return null;
    }

    /// <summary>The process's pidfd, opened once; null if the process is gone.</summary>
    private FileDescriptorHandle? PidFd(int pid)
    {
        if (_pidfds.TryGetValue(pid, out var existing))
        {
            return existing;
        }

        long fd = NativeMethods.syscall(PidFdConstants.SYS_pidfd_open, pid, 0, 0, 0, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                Errno.ESRCH => null,
                Errno.ENOSYS => throw new ReadinessNotSupportedException(),
                _ => throw new LinuxErrorException(errno, $"pidfd_open({pid})"), // EMFILE included: the caller ends the call
            };
        }

        var handle = new FileDescriptorHandle((int)fd);
        _pidfds[pid] = handle;
        return handle;
    }
}
