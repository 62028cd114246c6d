using System.Collections.Generic;
using EpollTools.Core.Native;

namespace EpollTools.Core.Parsing;

/// <summary>Names for the open flags fdinfo prints in octal, and for signal masks.</summary>
public static class FlagNames
{
    private static readonly (int Flag, string Name)[] OpenFlagNames =
    {
        (OpenFlags.O_CREAT, "O_CREAT"), (OpenFlags.O_EXCL, "O_EXCL"), (OpenFlags.O_NOCTTY, "O_NOCTTY"),
        (OpenFlags.O_TRUNC, "O_TRUNC"), (OpenFlags.O_APPEND, "O_APPEND"), (OpenFlags.O_NONBLOCK, "O_NONBLOCK"),
        (OpenFlags.O_DSYNC, "O_DSYNC"), (OpenFlags.FASYNC, "O_ASYNC"), (OpenFlags.O_DIRECT, "O_DIRECT"),
        (OpenFlags.O_LARGEFILE, "O_LARGEFILE"), (OpenFlags.O_DIRECTORY, "O_DIRECTORY"), (OpenFlags.O_NOFOLLOW, "O_NOFOLLOW"),
        (OpenFlags.O_NOATIME, "O_NOATIME"), (OpenFlags.O_CLOEXEC, "O_CLOEXEC"), (OpenFlags.__O_SYNC, "__O_SYNC"),
        (OpenFlags.O_PATH, "O_PATH"), (OpenFlags.__O_TMPFILE, "__O_TMPFILE"),
    };


    /// <summary>"O_RDWR|O_NONBLOCK|O_CLOEXEC"; bits without a name stay as octal.</summary>
    public static string DecodeOpenFlags(int flags)
    {
        var names = new List<string>
        {
            (flags & OpenFlags.O_ACCMODE) switch { OpenFlags.O_RDONLY => "O_RDONLY", OpenFlags.O_WRONLY => "O_WRONLY", OpenFlags.O_RDWR => "O_RDWR", _ => "O_ACCMODE" },
        };
        int rest = flags & ~OpenFlags.O_ACCMODE;
        foreach (var (flag, name) in OpenFlagNames)
        {
            if ((rest & flag) == flag)
            {
                names.Add(name);
                rest &= ~flag;
            }
        }

        if (rest != 0)
        {
            names.Add("0" + System.Convert.ToString(rest, 8));
        }

        return string.Join("|", names);
    }

    /// <summary>Whether the access mode lets the fd write (O_WRONLY or O_RDWR).</summary>
    public static bool CanWrite(int flags) => (flags & OpenFlags.O_ACCMODE) is OpenFlags.O_WRONLY or OpenFlags.O_RDWR;

    /// <summary>Whether the access mode lets the fd read (O_RDONLY or O_RDWR).</summary>
    public static bool CanRead(int flags) => (flags & OpenFlags.O_ACCMODE) is OpenFlags.O_RDONLY or OpenFlags.O_RDWR;

    // include/uapi/asm-generic/signal.h (x86-64 and arm64).
    private static readonly string[] SignalNames =
    {
        "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    };

    private const int SIGRTMIN = 32;

    /// <summary>The signals in a sigset (bit n-1 is signal n): "SIGUSR1,SIGUSR2"; real-time ones as SIGRTMIN+n.</summary>
    public static string DecodeSignals(ulong mask)
    {
        var names = new List<string>();
        for (int signal = 1; signal <= 64; signal++)
        {
            if ((mask & (1UL << (signal - 1))) == 0)
            {
                continue;
            }

            names.Add(signal <= SignalNames.Length ? SignalNames[signal - 1] : signal >= SIGRTMIN ? $"SIGRTMIN+{signal - SIGRTMIN}" : "SIG" + signal);
        }

        return string.Join(",", names);
    }
}
