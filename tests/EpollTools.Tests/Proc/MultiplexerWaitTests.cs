using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.Waits;
using Xunit;
using static EpollTools.Tests.Proc.FdInfoParserTests;

namespace EpollTools.Tests.Proc;

/// <summary>
/// The per-thread /proc parsers on text captured from tests/fixtures/multiplexer-waits.c on this kernel, and the
/// argument decoder with a fake process memory at the addresses those captures hold.
/// </summary>
public sealed class MultiplexerWaitTests
{
    [Fact]
    public void ParsesABlockedCallWithItsSixArguments()
    {
        var poll = TaskParser.ParseSyscall(Sample("task-syscall-poll.txt"))!;
        Assert.Equal(SyscallActivity.InSyscall, poll.Activity);
        Assert.Equal(7, poll.Number);
        Assert.Equal(new ulong[] { 0x7f89e4b23ea0, 3, 0xffffffff, 0x7ffd78f5fe77, 0x100000003, 0x100000003 }, poll.Arguments);
        Assert.Equal(0x7f89e4b23e98UL, poll.StackPointer);
        Assert.Equal(0x7f89e642c829UL, poll.ProgramCounter);
    }

    [Theory]
    [InlineData("running\n", SyscallActivity.Running, -1)]
    [InlineData("-1 0x7ffc8417a6b8 0x7fc5af99f503\n", SyscallActivity.NotInSyscall, -1)]
    [InlineData("230 0x0 0x0 0x7ffc8417a6d0 0x7ffc8417a710 0x0 0x0 0x7ffc8417a6b8 0x7fc5af99f503\n", SyscallActivity.InSyscall, 230)]
    public void TellsRunningFromBlockedOutsideAndInsideACall(string text, SyscallActivity activity, long number)
    {
        var parsed = TaskParser.ParseSyscall(text)!;
        Assert.Equal(activity, parsed.Activity);
        Assert.Equal(number, parsed.Number);
    }

    [Theory]
    [InlineData("")]
    [InlineData("runnin")]
    [InlineData("7 0x1 0x2")]
    [InlineData("7 1 2 3 4 5 6 7 8")]
    [InlineData("x 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8")]
    [InlineData("7 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 0x9")]
    [InlineData("-1 0x1 0x2 0x3")]
    [InlineData("7 0xzz 0x2 0x3 0x4 0x5 0x6 0x7 0x8")]
    public void RefusesWhatIsNotASyscallLine(string text) => Assert.Null(TaskParser.ParseSyscall(text));

    [Fact]
    public void SeesTheSameCallOnlyWhenNothingChanged()
    {
        var first = TaskParser.ParseSyscall(Sample("task-syscall-select.txt"))!;
        Assert.True(first.SameCallAs(TaskParser.ParseSyscall(Sample("task-syscall-select.txt"))!));
        Assert.False(first.SameCallAs(TaskParser.ParseSyscall("23 0x8 0x7f89e3b21db0 0x0 0x7f89e3b21e30 0x0 0x88 0x7f89e3b21da0 0x7f89e642c829")!));
        Assert.False(first.SameCallAs(ThreadSyscall.Running));
    }

    [Theory]
    [InlineData("25882 (ep-wait) S 1 25872", 'S')]
    [InlineData("12 (a) b (c) D 1 2", 'D')]
    [InlineData("12 (name) ", null)]
    [InlineData("no parenthesis", null)]
    public void ReadsTheStateAfterTheLastParenthesis(string text, char? state) => Assert.Equal(state, TaskParser.ParseStatState(text));

    [Fact]
    public void ReadsTheStateOfACapturedStatLine() => Assert.Equal('S', TaskParser.ParseStatState(Sample("task-stat.txt")));

    [Fact]
    public void ReadsExecStartFromTheSchedFile()
    {
        Assert.Equal(6291203.855902, TaskParser.ParseExecStartMilliseconds(Sample("task-sched.txt")));
        Assert.Null(TaskParser.ParseExecStartMilliseconds("se.vruntime : 1.0\n"));
        Assert.Null(TaskParser.ParseExecStartMilliseconds("se.exec_start : nan\n"));
    }

    [Theory]
    [InlineData(232, MultiplexerCall.EpollWait)]
    [InlineData(281, MultiplexerCall.EpollPwait)]
    [InlineData(441, MultiplexerCall.EpollPwait2)]
    [InlineData(7, MultiplexerCall.Poll)]
    [InlineData(271, MultiplexerCall.Ppoll)]
    [InlineData(23, MultiplexerCall.Select)]
    [InlineData(270, MultiplexerCall.Pselect6)]
    public void KnowsTheX64Numbers(long number, MultiplexerCall call) => Assert.Equal(call, MultiplexerCallDecoder.Identify(SyscallAbi.X64, number)?.Call);

    [Theory]
    [InlineData(22, MultiplexerCall.EpollPwait)]
    [InlineData(441, MultiplexerCall.EpollPwait2)]
    [InlineData(73, MultiplexerCall.Ppoll)]
    [InlineData(72, MultiplexerCall.Pselect6)]
    public void KnowsTheArm64Numbers(long number, MultiplexerCall call) => Assert.Equal(call, MultiplexerCallDecoder.Identify(SyscallAbi.Arm64, number)?.Call);

    [Theory]
    [InlineData(82, MultiplexerCall.Select, "select", ArgumentLayout.Compat32)]
    [InlineData(142, MultiplexerCall.Select, "_newselect", ArgumentLayout.Compat32)]
    [InlineData(168, MultiplexerCall.Poll, "poll", ArgumentLayout.Compat32)]
    [InlineData(256, MultiplexerCall.EpollWait, "epoll_wait", ArgumentLayout.Compat32)]
    [InlineData(308, MultiplexerCall.Pselect6, "pselect6", ArgumentLayout.Compat32)]
    [InlineData(309, MultiplexerCall.Ppoll, "ppoll", ArgumentLayout.Compat32)]
    [InlineData(319, MultiplexerCall.EpollPwait, "epoll_pwait", ArgumentLayout.Compat32)]
    [InlineData(413, MultiplexerCall.Pselect6, "pselect6_time64", ArgumentLayout.Compat32Time64)]
    [InlineData(414, MultiplexerCall.Ppoll, "ppoll_time64", ArgumentLayout.Compat32Time64)]
    [InlineData(441, MultiplexerCall.EpollPwait2, "epoll_pwait2", ArgumentLayout.Compat32Time64)]
    public void KnowsTheI386Numbers(long number, MultiplexerCall call, string name, ArgumentLayout layout)
    {
        var identified = MultiplexerCallDecoder.Identify(SyscallAbi.I386, number);
        Assert.Equal(call, identified?.Call);
        Assert.Equal(name, identified?.Name);
        Assert.Equal(layout, identified?.Layout);
    }

    [Theory]
    [InlineData(ElfConstants.ELFCLASS64, ElfConstants.EM_X86_64, SyscallAbi.X64)]
    [InlineData(ElfConstants.ELFCLASS64, ElfConstants.EM_AARCH64, SyscallAbi.Arm64)]
    [InlineData(ElfConstants.ELFCLASS32, ElfConstants.EM_386, SyscallAbi.I386)]
    [InlineData(ElfConstants.ELFCLASS32, ElfConstants.EM_X86_64, SyscallAbi.Other)] // x32: not decoded
    [InlineData(ElfConstants.ELFCLASS32, ElfConstants.EM_ARM, SyscallAbi.Other)]
    public void NamesTheTableFromTheElfHeader(byte elfClass, ushort machine, SyscallAbi abi) => Assert.Equal(abi, SyscallAbis.OfElf(elfClass, machine));

    [Fact]
    public void DoesNotMistakeOtherCallsForWaits()
    {
        Assert.Null(MultiplexerCallDecoder.Identify(SyscallAbi.X64, 230)); // clock_nanosleep
        Assert.Null(MultiplexerCallDecoder.Identify(SyscallAbi.X64, 0));   // read
        Assert.Null(MultiplexerCallDecoder.Identify(SyscallAbi.Arm64, 7)); // fremovexattr on arm64, not poll
        Assert.Null(MultiplexerCallDecoder.Identify(SyscallAbi.Arm64, 232));
        Assert.Null(MultiplexerCallDecoder.Identify(SyscallAbi.I386, 7));   // waitpid on i386, not poll
        Assert.Null(MultiplexerCallDecoder.Identify(SyscallAbi.I386, 232)); // i386's 232 is not epoll_wait
        Assert.Null(MultiplexerCallDecoder.Identify(SyscallAbi.Other, 168));
    }

    [Fact]
    public void DecodesCapturedPollWithItsArrayFromMemory()
    {
        var poll = TaskParser.ParseSyscall(Sample("task-syscall-poll.txt"))!;
        var memory = new FakeMemory();
        memory.Put(0x7f89e4b23ea0, PollFd(3, 0x1), PollFd(-1, 0x1), PollFd(7, 0x3));
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.Poll, poll.Arguments, memory.Read);
        Assert.Equal(3, decoded.Nfds);
        Assert.Equal(new[] { (3, 1), (7, 3) }, decoded.Fds);
        Assert.Equal(-1, decoded.TimeoutMilliseconds);
        Assert.Equal("infinite", decoded.Timeout);
        Assert.Equal("1 entry with a negative fd (the kernel ignores it)", decoded.Note);
    }

    [Fact]
    public void DecodesCapturedSelectWithItsSetsFromMemory()
    {
        var select = TaskParser.ParseSyscall(Sample("task-syscall-select.txt"))!;
        var memory = new FakeMemory();
        memory.Put(0x7f89e3b21db0, FdSet(3, 7));
        memory.Put(0x7f89e3b21e30, FdSet(5));
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.Select, select.Arguments, memory.Read);
        Assert.Equal(8, decoded.Nfds);
        Assert.Equal(new[] { 3, 7 }, decoded.ReadFds);
        Assert.Empty(decoded.WriteFds);
        Assert.Equal(new[] { 5 }, decoded.ExceptFds);
        Assert.Equal(new[] { (3, 1), (5, 2), (7, 1) }, decoded.Fds); // read IN, except PRI
        Assert.Equal("infinite", decoded.Timeout);                     // a NULL timeval
        Assert.Null(decoded.Note);
    }

    [Fact]
    public void ReadsOnlyTheBitsBelowNfds()
    {
        var memory = new FakeMemory();
        memory.Put(0x1000, FdSet(2, 9));
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.Select, new ulong[] { 5, 0x1000, 0, 0, 0, 0 }, memory.Read);
        Assert.Equal(new[] { 2 }, decoded.ReadFds);
    }

    [Fact]
    public void DecodesCapturedEpollPwait2WithItsTimespecFromMemory()
    {
        var wait = TaskParser.ParseSyscall(Sample("task-syscall-ep-pwait2.txt"))!;
        var memory = new FakeMemory();
        memory.Put(0x7f89e5324e80, TimeSpec(3600, 500_000_000));
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.EpollPwait2, wait.Arguments, memory.Read);
        Assert.Equal(8, decoded.EpollFd);
        Assert.Equal(4, decoded.MaxEvents);
        Assert.Equal(3600500, decoded.TimeoutMilliseconds);
        Assert.Equal("3600.5 s", decoded.Timeout);
    }

    [Fact]
    public void SaysSoWhenTheMemoryCannotBeRead()
    {
        var wait = TaskParser.ParseSyscall(Sample("task-syscall-ep-pwait2.txt"))!;
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.EpollPwait2, wait.Arguments, new FakeMemory().Read);
        Assert.Null(decoded.TimeoutMilliseconds);
        Assert.Equal("not readable", decoded.Timeout);
        Assert.Contains("timespec could not be read", decoded.Note);

        var poll = MultiplexerCallDecoder.Decode(MultiplexerCall.Poll, TaskParser.ParseSyscall(Sample("task-syscall-poll.txt"))!.Arguments, new FakeMemory().Read);
        Assert.Empty(poll.Fds);
        Assert.Contains("pollfd array could not be read", poll.Note);
    }

    [Fact]
    public void RefusesATimespecTheKernelWouldRefuse()
    {
        var memory = new FakeMemory();
        memory.Put(0x2000, TimeSpec(1, 1_000_000_000));
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.Ppoll, new ulong[] { 0, 0, 0x2000, 0, 8, 0 }, memory.Read);
        Assert.Null(decoded.TimeoutMilliseconds);
        Assert.Equal("invalid", decoded.Timeout);
    }

    [Fact]
    public void DecodesCapturedI386NewselectWith32BitWordsAndTimeval()
    {
        var select = TaskParser.ParseSyscall(Sample("task-syscall-i386-newselect.txt"))!;
        var memory = new FakeMemory();
        memory.Put(0xffc390dc, Words32(1 << 0 | 1 << 3, 0));  // read set: fds 0 and 3, two compat_ulong words
        memory.Put(0xffc390d4, Words32(0, 1 << (40 - 32))); // except set: fd 40, in the second word
        memory.Put(0xffc390b4, Words32(4200, 500000));      // old_timeval32
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCallDecoder.Identify(SyscallAbi.I386, select.Number)!.Value, select.Arguments, memory.Read);
        Assert.Equal(41, decoded.Nfds);
        Assert.Equal(new[] { 0, 3 }, decoded.ReadFds);
        Assert.Equal(new[] { 40 }, decoded.ExceptFds);
        Assert.Equal(4200500, decoded.TimeoutMilliseconds);
        Assert.Null(decoded.Note); // 8 bytes a set were enough: no 64-bit word was asked for past them
    }

    [Fact]
    public void DecodesCapturedI386OldSelectThroughItsArgumentBlock()
    {
        var select = TaskParser.ParseSyscall(Sample("task-syscall-i386-select.txt"))!;
        var memory = new FakeMemory();
        memory.Put(0xffc71ab0, Words32(41, 0x5000, 0, 0x5008, 0x5010)); // struct sel_arg_struct
        memory.Put(0x5000, Words32(1 << 3, 0));
        memory.Put(0x5008, Words32(0, 1 << (40 - 32)));
        memory.Put(0x5010, Words32(77, 0));
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCallDecoder.Identify(SyscallAbi.I386, select.Number)!.Value, select.Arguments, memory.Read);
        Assert.Equal(41, decoded.Nfds);
        Assert.Equal(new[] { 3 }, decoded.ReadFds);
        Assert.Equal(new[] { 40 }, decoded.ExceptFds);
        Assert.Equal("77 s", decoded.Timeout);

        var unreadable = MultiplexerCallDecoder.Decode(MultiplexerCallDecoder.Identify(SyscallAbi.I386, select.Number)!.Value, select.Arguments, new FakeMemory().Read);
        Assert.Equal("not readable", unreadable.Timeout);
        Assert.Contains("select's arguments could not be read", unreadable.Note);
    }

    [Fact]
    public void ReadsAnI386TimespecAsTwo32BitWordsAndTheTime64CallsAsTwo64BitWords()
    {
        var ppoll = TaskParser.ParseSyscall(Sample("task-syscall-i386-ppoll.txt"))!;
        var memory = new FakeMemory();
        memory.Put(0xff8f4250, PollFd(0, 1), PollFd(3, 1), PollFd(-1, 1), PollFd(40, 3));
        memory.Put(0xff8f41fc, Words32(1234, 500_000_000));
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCallDecoder.Identify(SyscallAbi.I386, 309)!.Value, ppoll.Arguments, memory.Read);
        Assert.Equal(new[] { (0, 1), (3, 1), (40, 3) }, decoded.Fds);
        Assert.Equal(1234500, decoded.TimeoutMilliseconds);

        memory.Put(0xff8f41fc, TimeSpec(2345, 250_000_000));
        var time64 = MultiplexerCallDecoder.Decode(MultiplexerCallDecoder.Identify(SyscallAbi.I386, 414)!.Value, ppoll.Arguments, memory.Read);
        Assert.Equal(2345250, time64.TimeoutMilliseconds);
    }

    [Fact]
    public void IgnoresTheUpperHalfOfAnI386Register()
    {
        // A 32-bit program's registers are 32 bits: what a 64-bit view shows above them is not part of its argument.
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCallDecoder.Identify(SyscallAbi.I386, 256)!.Value, new ulong[] { 0xdead_0000_0006, 0x1000, 5, 0x5_0009_27c0, 0, 0 }, new FakeMemory().Read);
        Assert.Equal(6, decoded.EpollFd);
        Assert.Equal(600000, decoded.TimeoutMilliseconds);
    }

    [Theory]
    [InlineData(0xffffffffUL, -1.0, "infinite")]
    [InlineData(0xfffffffeUL, -1.0, "infinite")]
    [InlineData(0UL, 0.0, "0 (returns at once)")]
    [InlineData(250UL, 250.0, "250 ms")]
    [InlineData(0x927c0UL, 600000.0, "600 s")]
    public void ReadsEpollWaitTimeoutsAsTheKernelDoes(ulong register, double ms, string text)
    {
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.EpollWait, new ulong[] { 8, 0x1000, 16, register, 0, 0 }, new FakeMemory().Read);
        Assert.Equal(ms, decoded.TimeoutMilliseconds);
        Assert.Equal(text, decoded.Timeout);
    }

    [Fact]
    public void CutsAHugePollArrayAndSaysSo()
    {
        var memory = new FakeMemory();
        var entries = new byte[MultiplexerCallDecoder.MaxPollEntries][];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = PollFd(i, 1);
        }

        memory.Put(0x10000, entries);
        var decoded = MultiplexerCallDecoder.Decode(MultiplexerCall.Poll, new ulong[] { 0x10000, 1_000_000, 0, 0, 0, 0 }, memory.Read);
        Assert.Equal(MultiplexerCallDecoder.MaxPollEntries, decoded.Fds.Count);
        Assert.Contains($"only the first {MultiplexerCallDecoder.MaxPollEntries} of 1000000", decoded.Note);
    }

    private static byte[] PollFd(int fd, short events)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, fd);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(4), events);
        return bytes;
    }

    private static byte[] FdSet(params int[] fds)
    {
        var bytes = new byte[128]; // FD_SETSIZE bits
        foreach (int fd in fds)
        {
            bytes[fd / 8] |= (byte)(1 << (fd % 8));
        }

        return bytes;
    }

    private static byte[] Words32(params int[] words)
    {
        var bytes = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), words[i]);
        }

        return bytes;
    }

    private static byte[] TimeSpec(long seconds, long nanoseconds)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, seconds);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), nanoseconds);
        return bytes;
    }

    /// <summary>A process memory that holds only what a test put in it.</summary>
    private sealed class FakeMemory
    {
        private readonly Dictionary<ulong, byte> _bytes = new();

        public void Put(ulong address, params byte[][] chunks)
        {
            foreach (var chunk in chunks)
            {
                foreach (byte b in chunk)
                {
                    _bytes[address++] = b;
                }
            }
        }

        public bool Read(ulong address, Span<byte> destination)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                if (!_bytes.TryGetValue(address + (ulong)i, out destination[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    [Fact]
    public void TheX64NameTableAgreesWithTheNumbersDefinedElsewhere()
    {
        // Two independent transcriptions of arch/x86/entry/syscalls/syscall_64.tbl must agree.
        Assert.Equal("poll", X64SyscallNames.Of(MultiplexerSyscallNumbers.X64_poll));
        Assert.Equal("select", X64SyscallNames.Of(MultiplexerSyscallNumbers.X64_select));
        Assert.Equal("epoll_wait", X64SyscallNames.Of(MultiplexerSyscallNumbers.X64_epoll_wait));
        Assert.Equal("pselect6", X64SyscallNames.Of(MultiplexerSyscallNumbers.X64_pselect6));
        Assert.Equal("ppoll", X64SyscallNames.Of(MultiplexerSyscallNumbers.X64_ppoll));
        Assert.Equal("epoll_pwait", X64SyscallNames.Of(MultiplexerSyscallNumbers.X64_epoll_pwait));
        Assert.Equal("epoll_pwait2", X64SyscallNames.Of(MultiplexerSyscallNumbers.X64_epoll_pwait2));
        Assert.Equal("pidfd_open", X64SyscallNames.Of(PidFdConstants.SYS_pidfd_open));
        Assert.Equal("pidfd_getfd", X64SyscallNames.Of(PidFdConstants.SYS_pidfd_getfd));
        Assert.Null(X64SyscallNames.Of(-1));
        Assert.Null(X64SyscallNames.Of(100_000));
    }

    [Fact]
    public void FindsTheLastCpuInAStatLineWhoseNameHasSpacesAndParentheses()
    {
        // Fields 3 (state) to 52 after the name; field 39 is the processor.
        string after = string.Join(' ', Enumerable.Range(3, 50).Select(field => field switch { 3 => "S", 39 => "7", _ => "0" }));
        Assert.Equal(7, TaskParser.ParseStatProcessor($"4242 (a) b (c) {after}\n"));
        Assert.Equal('S', TaskParser.ParseStatState($"4242 (a) b (c) {after}\n"));
        Assert.Null(TaskParser.ParseStatProcessor("4242 (short) S 1 2 3\n"));
        Assert.Null(TaskParser.ParseStatProcessor("no name at all"));
        Assert.True(TaskParser.ParseStatProcessor(System.IO.File.ReadAllText("/proc/thread-self/stat")) >= 0);
    }
}
