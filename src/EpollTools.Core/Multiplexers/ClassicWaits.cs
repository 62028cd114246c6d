using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using EpollTools.Core.Native;

namespace EpollTools.Core.Multiplexers;

/// <summary>
/// select(2) and poll(2) as a learner calls them, one call each, with the module's timeout convention (-1 blocks,
/// 0 polls, more waits at most that long) and a <see cref="WaitCanceller"/> whose eventfd is watched beside the
/// caller's fds, so that Ctrl+C ends a blocking call at once. EINTR is retried with the time left.
/// </summary>
public static class ClassicWaits
{
    /// <summary>The poll events a pollfd's 16-bit events field can hold; ET, ONESHOT and the like are epoll's own.</summary>
    public const EpollEvents PollEventBits = (EpollEvents)0xFFFF;

    /// <summary>
    /// select(2) on the three sets. Throws <see cref="FdSetSizeExceededException"/> for an fd at or above FD_SETSIZE
    /// and <see cref="ArgumentOutOfRangeException"/> for a negative one, before any call; <see cref="LinuxErrorException"/>
    /// (EBADF for a closed fd); <see cref="OperationCanceledException"/> when cancelled; <see cref="ObjectDisposedException"/>
    /// when an fd of <paramref name="holds"/> is closed while it waits (the close wakes it).
    /// </summary>
    public static unsafe SelectResult Select(IReadOnlyCollection<int> read, IReadOnlyCollection<int> write, IReadOnlyCollection<int> except, int timeoutMs, WaitCanceller? canceller, FdHolds? holds = null)
    {
        var all = read.Concat(write).Concat(except).ToList();
        foreach (int fd in all.Where(fd => fd < 0).Take(1))
        {
            throw new ArgumentOutOfRangeException(nameof(read), fd, $"select cannot watch fd {fd}: fds are 0 or more.");
        }

        if (all.Count > 0 && all.Max() >= SelectConstants.FD_SETSIZE)
        {
            throw new FdSetSizeExceededException(all.Max());
        }

        // The kernel clamps nfds to the size of its fd table and leaves the bits past it as they were, so an fd that
        // is not open there would look ready; one within the table gives EBADF. Each fd is checked first, alike.
        foreach (int fd in all.Where(fd => NativeMethods.fcntl(fd, OpenFlags.F_GETFD, 0) < 0).Take(1))
        {
            throw new LinuxErrorException(Errno.EBADF, "select", fd);
        }

        int nfds = all.Count == 0 ? 0 : all.Max() + 1;
        const int words = FdSet.Words;
        ulong* readSet = stackalloc ulong[words];
        ulong* writeSet = stackalloc ulong[words];
        ulong* exceptSet = stackalloc ulong[words];
        long started = Stopwatch.GetTimestamp();
        using var signals = new SignalFds(canceller, holds);
        {
            // An fd_set cannot hold the module's own eventfds past FD_SETSIZE: then the wait goes in slices and
            // checks them in between.
            var ownFds = signals.Numbers;

            // A number the caller gave that is now one of the module's own eventfds was closed before the call
            // (the eventfd took it since): it is the caller's EBADF, not the module's eventfd to report.
            foreach (int fd in all.Where(ownFds.Contains).Take(1))
            {
                throw new LinuxErrorException(Errno.EBADF, "select", fd);
            }

            bool watchSignals = ownFds.All(fd => fd < SelectConstants.FD_SETSIZE);
            int highest = Math.Max(nfds, watchSignals && ownFds.Count > 0 ? ownFds.Max() + 1 : 0);
            while (true)
            {
                signals.ThrowIfSignalled(holds);
                FdSet.Fill(new Span<ulong>(readSet, words), read);
                FdSet.Fill(new Span<ulong>(writeSet, words), write);
                FdSet.Fill(new Span<ulong>(exceptSet, words), except);
                if (watchSignals)
                {
                    foreach (int fd in ownFds)
                    {
                        FdSet.Add(new Span<ulong>(readSet, words), fd);
                    }
                }

                int left = CancellablePoll.RemainingMs(timeoutMs, started);
                int slice = ownFds.Count > 0 && !watchSignals && (left < 0 || left > CancelSliceMs) ? CancelSliceMs : left;
                var timeval = new NativeMethods.TimeVal { Seconds = slice / 1000, Microseconds = slice % 1000 * 1000L };
                int rc = NativeMethods.select(highest, readSet, writeSet, exceptSet, slice < 0 ? null : &timeval);
                if (rc < 0)
                {
                    var error = LinuxErrorException.FromLastError("select");
                    if (error.Errno == Errno.EINTR)
                    {
                        continue;
                    }

                    // EBADF names no fd: find the first one that is not open, so the error can say which.
                    throw error.Errno == Errno.EBADF && all.Where(fd => NativeMethods.fcntl(fd, OpenFlags.F_GETFD, 0) < 0).Select(fd => (int?)fd).FirstOrDefault() is int closed
                        ? new LinuxErrorException(Errno.EBADF, "select", closed)
                        : error;
                }

                signals.ThrowIfSignalled(holds);
                if (rc == 0 && slice != left)
                {
                    continue; // a slice ended, not the timeout
                }

                if (watchSignals)
                {
                    rc -= CountSet(readSet, ownFds); // the module's own, not the caller's
                }

                var ready = Collect(readSet, read, SelectSet.Read).Concat(Collect(writeSet, write, SelectSet.Write)).Concat(Collect(exceptSet, except, SelectSet.Except)).ToArray();
                return new SelectResult
                {
                    Count = rc,
                    Nfds = nfds,
                    ReadFds = ready.Where(r => r.Set == SelectSet.Read).Select(r => r.Fd).ToArray(),
                    WriteFds = ready.Where(r => r.Set == SelectSet.Write).Select(r => r.Fd).ToArray(),
                    ExceptFds = ready.Where(r => r.Set == SelectSet.Except).Select(r => r.Fd).ToArray(),
                    Ready = ready,
                    TimeoutMilliseconds = timeoutMs,
                    // Linux writes the time not slept back into the timeval; a sliced wait knows it from the clock.
                    TimeLeftMilliseconds = timeoutMs < 0 ? null
                        : slice == left ? timeval.Seconds * 1000.0 + timeval.Microseconds / 1000.0
                        : CancellablePoll.RemainingMs(timeoutMs, started),
                };
            }
        }
    }

    /// <summary>
    /// poll(2) on the entries, in their order (a negative fd is passed as it is: the kernel ignores it). Throws
    /// <see cref="ArgumentOutOfRangeException"/> for events that are not poll's, <see cref="LinuxErrorException"/>,
    /// <see cref="OperationCanceledException"/> when cancelled, and <see cref="ObjectDisposedException"/> when an fd
    /// of <paramref name="holds"/> is closed while it waits (the close wakes it).
    /// </summary>
    public static unsafe PollResult Poll(IReadOnlyList<(int Fd, EpollEvents Events)> entries, int timeoutMs, WaitCanceller? canceller, FdHolds? holds = null)
    {
        foreach (var (fd, events) in entries.Where(e => (e.Events & ~PollEventBits) != 0).Take(1))
        {
            throw new ArgumentOutOfRangeException(nameof(entries), events,
                $"{EpollEventsText.ToShortString(events & ~PollEventBits)} (asked for fd {fd}) is epoll's, not poll's: a pollfd's events hold IN, PRI, OUT, RDHUP and the like.");
        }

        long started = Stopwatch.GetTimestamp();
        using var signals = new SignalFds(canceller, holds);
        {
            var ownFds = signals.Numbers;
            var fds = new NativeMethods.PollFd[entries.Count + ownFds.Count];
            int count = entries.Count;
            for (int i = 0; i < entries.Count; i++)
            {
                // A number the caller gave that is now one of the module's own eventfds was closed before the call
                // (the eventfd took it since): the kernel is not asked about it (-1 is ignored), and it reads NVAL
                // below, as a closed fd does.
                fds[i] = new NativeMethods.PollFd { Fd = ownFds.Contains(entries[i].Fd) ? -1 : entries[i].Fd, Events = (short)(ushort)entries[i].Events };
            }

            foreach (int fd in ownFds)
            {
                fds[count++] = new NativeMethods.PollFd { Fd = fd, Events = PollConstants.POLLIN };
            }

            while (true)
            {
                signals.ThrowIfSignalled(holds);
                int rc;
                fixed (NativeMethods.PollFd* p = fds)
                {
                    rc = NativeMethods.poll(p, (nuint)count, CancellablePoll.RemainingMs(timeoutMs, started));
                }

                if (rc < 0)
                {
                    var error = LinuxErrorException.FromLastError("poll");
                    if (error.Errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw error;
                }

                signals.ThrowIfSignalled(holds);
                int own = 0;
                for (int i = entries.Count; i < count; i++)
                {
                    own += fds[i].REvents != 0 ? 1 : 0; // the module's own, not the caller's
                }

                for (int i = 0; i < entries.Count; i++)
                {
                    if (entries[i].Fd >= 0 && ownFds.Contains(entries[i].Fd))
                    {
                        fds[i].REvents = PollConstants.POLLNVAL;
                        own--;
                    }
                }

                return new PollResult
                {
                    Count = rc - own,
                    Entries = entries.Select((e, i) => new PollEntryResult { Fd = e.Fd, Events = e.Events, ReturnedEvents = (EpollEvents)(ushort)fds[i].REvents }).ToArray(),
                    TimeoutMilliseconds = timeoutMs,
                };
            }
        }
    }

    /// <summary>
    /// The module's own eventfds a select or poll watches beside the caller's fds: the canceller (Ctrl+C) and the
    /// close signals of the fds held for the call. Each is referenced while it is watched, so that its number cannot
    /// go to another file meanwhile.
    /// </summary>
    private sealed class SignalFds : IDisposable
    {
        private readonly WaitCanceller? _canceller;
        private readonly List<HandleInUse> _referenced = new();

        public SignalFds(WaitCanceller? canceller, FdHolds? holds)
        {
            _canceller = canceller;
            try
            {
                foreach (var signal in (canceller is null ? Array.Empty<WaitCanceller>() : new[] { canceller }).Concat(holds?.Signals ?? Array.Empty<WaitCanceller>()))
                {
                    // A close signal is disposed once its owner has closed (not held): the holds say so below.
                    var inUse = HandleInUse.TryTake(signal.EventFd);
                    if (inUse.IsHeld)
                    {
                        _referenced.Add(inUse);
                        Numbers.Add(signal.EventFd.Number);
                    }
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public List<int> Numbers { get; } = new();

        /// <summary>Ctrl+C first (<see cref="OperationCanceledException"/>), then a held fd closed (<see cref="ObjectDisposedException"/>).</summary>
        public void ThrowIfSignalled(FdHolds? holds)
        {
            _canceller?.ThrowIfCancelled();
            holds?.ThrowIfAnyClosed();
        }

        public void Dispose()
        {
            foreach (var inUse in _referenced)
            {
                inUse.Dispose();
            }

            _referenced.Clear();
        }
    }

    /// <summary>How long a select sleeps between checks when its canceller cannot be in the fd_set (fd past FD_SETSIZE).</summary>
    private const int CancelSliceMs = 100;

    private static unsafe int CountSet(ulong* set, IEnumerable<int> fds)
    {
        int count = 0;
        foreach (int fd in fds)
        {
            count += FdSet.Contains(new ReadOnlySpan<ulong>(set, FdSet.Words), fd) ? 1 : 0;
        }

        return count;
    }

    private static unsafe IEnumerable<SelectReadyFd> Collect(ulong* set, IEnumerable<int> asked, SelectSet which)
    {
        var ready = new List<SelectReadyFd>();
        foreach (int fd in asked.Distinct().OrderBy(fd => fd))
        {
            if (FdSet.Contains(new ReadOnlySpan<ulong>(set, FdSet.Words), fd))
            {
                ready.Add(new SelectReadyFd { Fd = fd, Set = which });
            }
        }

        return ready;
    }
}
