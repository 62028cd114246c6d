using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using EpollTools.Core;
using EpollTools.Core.Native;
using Xunit;

namespace EpollTools.Tests.Core;

public sealed class EpollInstanceTests
{
    [Fact]
    public void CreatesACloseOnExecEpollFd()
    {
        using var instance = EpollInstance.Create();
        Assert.Equal("anon_inode:[eventpoll]", new FileInfo($"/proc/self/fd/{instance.Fd}").LinkTarget);
        Assert.Equal(OpenFlags.FD_CLOEXEC, NativeMethods.fcntl(instance.Fd, OpenFlags.F_GETFD, 0) & OpenFlags.FD_CLOEXEC);
        Assert.Equal(Environment.ProcessId, instance.OwnerPid);
    }

    [Fact]
    public void DisposeClosesTheFdOnce()
    {
        var instance = EpollInstance.Create();
        int fd = instance.Fd;
        instance.Dispose();
        instance.Dispose();
        Assert.True(instance.IsClosed);
        Assert.Equal(-1, NativeMethods.fcntl(fd, OpenFlags.F_GETFD, 0));
    }

    [Theory]
    [InlineData(Errno.EEXIST)]
    public void AddingTwiceFailsWithEexist(int errno)
    {
        using var instance = EpollInstance.Create();
        using var efd = EventFd.Create();
        instance.Add(efd.Fd, EpollEvents.In, 1);
        var error = Assert.Throws<LinuxErrorException>(() => instance.Add(efd.Fd, EpollEvents.In, 1));
        Assert.Equal(errno, error.Errno);
        Assert.Equal("EEXIST", error.ErrnoName);
        Assert.Equal(efd.Fd, error.Fd);
        Assert.Contains("EPOLL_CTL_ADD", error.Operation);
    }

    [Fact]
    public void ModifyAndRemoveOfAnUnregisteredFdFailWithEnoent()
    {
        using var instance = EpollInstance.Create();
        using var efd = EventFd.Create();
        Assert.Equal(Errno.ENOENT, Assert.Throws<LinuxErrorException>(() => instance.Modify(efd.Fd, EpollEvents.In, 0)).Errno);
        Assert.Equal(Errno.ENOENT, Assert.Throws<LinuxErrorException>(() => instance.Remove(efd.Fd)).Errno);
    }

    [Fact]
    public void ARegularFileFailsWithEperm()
    {
        using var stream = File.OpenRead("/proc/self/exe");
        using var instance = EpollInstance.Create();
        int fd = (int)stream.SafeFileHandle.DangerousGetHandle();
        Assert.Equal(Errno.EPERM, Assert.Throws<LinuxErrorException>(() => instance.Add(fd, EpollEvents.In, 0)).Errno);
    }

    [Fact]
    public void TracksRegistrationsAndOneShotArming()
    {
        using var instance = EpollInstance.Create();
        using var efd = EventFd.Create(initialValue: 1);
        instance.Add(efd.Fd, EpollEvents.In | EpollEvents.OneShot, (ulong)efd.Fd);
        Assert.True(instance.FindRegistration(efd.Fd)!.Armed);
        Assert.Single(instance.Wait(4, 0));
        Assert.False(instance.FindRegistration(efd.Fd)!.Armed);
        Assert.Empty(instance.Wait(4, 0));
        instance.Modify(efd.Fd, EpollEvents.In | EpollEvents.OneShot, (ulong)efd.Fd);
        Assert.True(instance.FindRegistration(efd.Fd)!.Armed);
        Assert.Single(instance.Wait(4, 0));
        instance.Remove(efd.Fd);
        Assert.Equal(0, instance.RegistrationCount);
    }

    [Fact]
    public void TracksManyRegistrationsInFdOrderAndMapsCustomDataBack()
    {
        using var instance = EpollInstance.Create();
        var fds = Enumerable.Range(0, 150).Select(_ => EventFd.Create(initialValue: 1)).ToList();
        try
        {
            // Registered out of order, past the table's first size, half with data other than the fd.
            foreach (var (efd, i) in fds.Select((f, i) => (f, i)).Reverse())
            {
                instance.Add(efd.Fd, EpollEvents.In, i % 2 == 0 ? (ulong)efd.Fd : 1_000_000UL + (ulong)efd.Fd);
            }

            Assert.Equal(150, instance.RegistrationCount);
            Assert.Equal(fds.Select(f => f.Fd).Order(), instance.Registrations.Select(r => r.Fd));
            var events = instance.Wait(200, 0);
            Assert.Equal(150, events.Count);
            Assert.All(events, e => Assert.Equal(e.Data >= 1_000_000UL ? (int)(e.Data - 1_000_000UL) : (int)e.Data, e.Fd));

            instance.Remove(fds[0].Fd);
            instance.Remove(fds[149].Fd);
            Assert.Equal(148, instance.RegistrationCount);
            Assert.Null(instance.FindRegistration(fds[149].Fd));
        }
        finally
        {
            fds.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void AClosedInstanceRefusesEveryOperation()
    {
        var instance = EpollInstance.Create();
        instance.Dispose();
        Assert.Throws<EpollInstanceClosedException>(() => instance.Add(0, EpollEvents.In, 0));
        Assert.Throws<EpollInstanceClosedException>(() => instance.Wait(1, 0));
    }

    [Fact]
    public void RejectsMaxEventsOutsideTheKernelRange()
    {
        using var instance = EpollInstance.Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => instance.Wait(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => instance.Wait(EpollInstance.MaxEventsLimit + 1, 0));
    }

    [Fact]
    public async Task CancellingEndsAnInfiniteWait()
    {
        using var instance = EpollInstance.Create();
        using var canceller = new WaitCanceller();
        var wait = Task.Run(() => instance.Wait(1, -1, canceller));
        await AssertStillRunning(wait);
        canceller.Cancel();
        await AssertEnds(wait);
        await Assert.ThrowsAsync<OperationCanceledException>(() => wait);
    }

    [Fact]
    public async Task AnEventEndsAWaitWithACanceller()
    {
        using var instance = EpollInstance.Create();
        using var efd = EventFd.Create();
        using var canceller = new WaitCanceller();
        instance.Add(efd.Fd, EpollEvents.In, 7);
        var wait = Task.Run(() => instance.Wait(1, -1, canceller));
        efd.Signal(1);
        await AssertEnds(wait);
        Assert.Equal(7UL, Assert.Single(await wait).Data);
    }

    /// <summary>The task has not ended after a while: it is blocked, as an infinite wait must be.</summary>
    internal static async Task AssertStillRunning(Task task) => Assert.NotSame(task, await Task.WhenAny(task, Task.Delay(100)));

    /// <summary>The task ends; the bound only keeps a broken build from hanging the suite.</summary>
    internal static async Task AssertEnds(Task task) => Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))));

    [Fact]
    public void APositiveTimeoutReturnsNothingWhenNothingIsReady()
    {
        using var instance = EpollInstance.Create();
        using var canceller = new WaitCanceller();
        var clock = Stopwatch.StartNew();
        Assert.Empty(instance.Wait(1, 30, canceller));
        Assert.True(clock.ElapsedMilliseconds >= 29, "epoll_wait returned before its timeout");
    }
}

public sealed class FdSourceTests
{
    [Fact]
    public void EventFdAddsUpAndReadsTheCounter()
    {
        using var efd = EventFd.Create(nonBlocking: true);
        efd.Signal(2);
        efd.Signal(3);
        Assert.Equal(5UL, efd.ReadValue());
        Assert.Equal(Errno.EAGAIN, Assert.Throws<LinuxErrorException>(() => efd.ReadValue()).Errno);
    }

    [Fact]
    public void SemaphoreEventFdTakesOneAtATime()
    {
        using var efd = EventFd.Create(initialValue: 2, semaphore: true, nonBlocking: true);
        Assert.Equal(1UL, efd.ReadValue());
        Assert.Equal(1UL, efd.ReadValue());
        Assert.Throws<LinuxErrorException>(() => efd.ReadValue());
    }

    [Fact]
    public void PipeCarriesBytesAndReportsEndOfFile()
    {
        using var pipe = Pipe.Create();
        Assert.Equal(5, pipe.WriteEnd.Write("hello"u8));
        Assert.Equal("hello"u8.ToArray(), pipe.ReadEnd.Read(100));
        pipe.WriteEnd.Dispose();
        Assert.Empty(pipe.ReadEnd.Read(100));
    }

    [Fact]
    public void NonBlockingIsSetAndCleared()
    {
        using var pipe = Pipe.Create();
        Assert.False(pipe.ReadEnd.NonBlocking);
        pipe.ReadEnd.SetNonBlocking(true);
        Assert.True(pipe.ReadEnd.NonBlocking);
        Assert.Equal(Errno.EAGAIN, Assert.Throws<LinuxErrorException>(() => pipe.ReadEnd.Read(1)).Errno);
        pipe.ReadEnd.SetNonBlocking(false);
        Assert.False(pipe.ReadEnd.NonBlocking);
    }

    [Fact]
    public void AFullNonBlockingPipeTakesWhatFits()
    {
        using var pipe = Pipe.Create(nonBlocking: true);
        int written = pipe.WriteEnd.Write(new byte[1 << 20]);
        Assert.InRange(written, 4096, (1 << 20) - 1);
        Assert.Equal(Errno.EAGAIN, Assert.Throws<LinuxErrorException>(() => pipe.WriteEnd.Write(new byte[1])).Errno);
    }

    [Fact]
    public async Task ABlockingReadIsCancellable()
    {
        using var pipe = Pipe.Create();
        using var canceller = new WaitCanceller();
        var read = Task.Run(() => pipe.ReadEnd.Read(10, canceller));
        await EpollInstanceTests.AssertStillRunning(read);
        canceller.Cancel();
        await EpollInstanceTests.AssertEnds(read);
        await Assert.ThrowsAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public void SocketPairIsConnectedBothWays()
    {
        using var pair = SocketPair.Create();
        pair.First.Write("ping"u8);
        Assert.Equal("ping"u8.ToArray(), pair.Second.Read(10));
        pair.Second.Write("pong"u8);
        Assert.Equal("pong"u8.ToArray(), pair.First.Read(10));
        Assert.StartsWith("socket:[", pair.First.Target);
    }

    [Fact]
    public void TimerFdArmsReportsAndDisarms()
    {
        using var timer = TimerFd.Create(nonBlocking: true);
        Assert.Equal(TimeSpan.Zero, timer.Remaining);
        timer.Arm(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));
        Assert.InRange(timer.Remaining, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(5), timer.Interval);
        Assert.Equal(Errno.EAGAIN, Assert.Throws<LinuxErrorException>(() => timer.ReadExpirations()).Errno);
        timer.Arm(TimeSpan.FromMilliseconds(1), TimeSpan.Zero);
        using var instance = EpollInstance.Create();
        instance.Add(timer.Fd, EpollEvents.In, 0);
        Assert.Single(instance.Wait(1, 10_000));
        Assert.Equal(1UL, timer.ReadExpirations());
        timer.Disarm();
        Assert.Equal(TimeSpan.Zero, timer.Remaining);
    }

    [Fact]
    public void AClosedFdRefusesIo()
    {
        var efd = EventFd.Create();
        efd.Dispose();
        Assert.True(efd.IsClosed);
        Assert.Null(efd.NonBlocking);
        Assert.Throws<ObjectDisposedException>(() => efd.Signal(1));
    }
}

public sealed class PollabilityTests
{



    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int open(string path, int flags);

    [Fact]
    public void ADirectoryFailsWithEperm()
    {
        int fd = open("/tmp", OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY);
        Assert.True(fd >= 0);
        using var directory = new FileDescriptorHandle(fd);
        using var instance = EpollInstance.Create();
        Assert.Equal(Errno.EPERM, Assert.Throws<LinuxErrorException>(() => instance.Add(fd, EpollEvents.In, 0)).Errno);
    }
}

/// <summary>Facts the docs state about epoll_create's size argument, checked on the running kernel.</summary>
public sealed class EpollCreateSizeTests
{
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int epoll_create(int size);

    [Fact]
    public unsafe void TheSizeMustBePositiveButIsOtherwiseIgnored()
    {
        var layout = EpollEventLayout.Current;
        byte* ev = stackalloc byte[layout.Size];
        Assert.Equal(-1, epoll_create(0));
        Assert.Equal(Errno.EINVAL, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());

        int fd = epoll_create(1);
        Assert.True(fd >= 0);
        using var owner = new FileDescriptorHandle(fd);
        var fds = new System.Collections.Generic.List<EventFd>();
        try
        {
            // Far more registrations than the "size" hint, and maxevents far above it: both fine.
            for (int i = 0; i < 50; i++)
            {
                var efd = EventFd.Create(initialValue: 1);
                fds.Add(efd);
                layout.Write(new Span<byte>(ev, layout.Size), EpollEvents.In, (ulong)i);
                Assert.Equal(0, NativeMethods.epoll_ctl(fd, EpollConstants.EPOLL_CTL_ADD, efd.Fd, ev));
            }

            var buffer = new byte[64 * layout.Size];
            fixed (byte* p = buffer)
            {
                Assert.Equal(50, NativeMethods.epoll_wait(fd, p, 64, 0));
            }
        }
        finally
        {
            fds.ForEach(f => f.Dispose());
        }
    }
}
