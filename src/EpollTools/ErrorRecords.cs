using System;
using System.IO;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Native;

namespace EpollTools;

/// <summary>
/// Turns core failures into ErrorRecords: a stable error id, a fitting category, the offending value as target,
/// and a message that ends with what to do about it. The one place error ids are defined.
/// </summary>
internal static class ErrorRecords
{
    private const string MaxUserWatchesPath = "/proc/sys/fs/epoll/max_user_watches";

    /// <summary>An epoll_ctl call, for explaining its failure.</summary>
    internal readonly record struct CtlRequest(string Operation, EpollInstance Instance, FdArgument Fd, EpollEvents Events);

    public static ErrorRecord ForControl(Exception exception, CtlRequest request)
    {
        if (exception is not LinuxErrorException linux)
        {
            return ForException(exception, request.Fd.Owner ?? request.Fd.Number);
        }

        object target = request.Fd.Owner ?? request.Fd.Number;
        int fd = request.Fd.Number;
        int epfd = request.Instance.Fd;
        string op = request.Operation;
        return linux.Errno switch
        {
            Errno.EEXIST => Make(linux, "FdAlreadyRegistered", ErrorCategory.ResourceExists, target,
                $"fd {fd} is already registered in epoll instance {epfd} (EEXIST).",
                "Use Set-EpollFd to change its events, or Remove-EpollFd first."),
            Errno.ENOENT => Make(linux, "FdNotRegistered", ErrorCategory.ObjectNotFound, target,
                $"fd {fd} is not registered in epoll instance {epfd} (ENOENT).",
                "Register it with Add-EpollFd first; the kernel also drops a registration once the file's last fd is closed."),
            Errno.EBADF => Make(linux, "BadFileDescriptor", ErrorCategory.InvalidArgument, target,
                $"fd {fd} is not an open file descriptor in this process (EBADF).",
                "List the open fds with: ls -l /proc/$PID/fd; or pass the object that owns the fd."),
            Errno.EPERM => Make(linux, "FdNotPollable", ErrorCategory.InvalidArgument, target,
                $"fd {fd} refers to a file that cannot be polled (EPERM): regular files and directories are always ready, so epoll refuses them.",
                "Read regular files directly; watch them for changes with inotify instead."),
            Errno.EINVAL when fd == epfd => Make(linux, "CannotAddInstanceToItself", ErrorCategory.InvalidArgument, target,
                $"An epoll instance cannot watch itself (fd {fd}, EINVAL).",
                "Add the instance to a different epoll instance to nest them."),
            Errno.EINVAL when op == "EPOLL_CTL_MOD" && (request.Events & EpollEvents.Exclusive) != 0 => Make(linux,
                "ExclusiveRequiresAdd", ErrorCategory.InvalidArgument, target,
                $"EXCLUSIVE can only be set when fd {fd} is added, not modified (EINVAL).",
                "Remove-EpollFd, then Add-EpollFd with -Events including Exclusive."),
            Errno.EINVAL when (request.Events & EpollEvents.Exclusive) != 0 => Make(linux,
                "InvalidExclusiveRegistration", ErrorCategory.InvalidArgument, target,
                $"The kernel refused EXCLUSIVE for fd {fd} (EINVAL): EXCLUSIVE goes only with IN, OUT, ERR, HUP, WAKEUP and ET, and not on an epoll fd.",
                "Drop OneShot, RdHup, Pri and the like from -Events, or drop Exclusive."),
            Errno.ELOOP => Make(linux, "EpollLoopDetected", ErrorCategory.InvalidOperation, target,
                $"Adding fd {fd} to epoll instance {epfd} would make a loop of epoll instances watching each other, or nest them deeper than {EpollConstants.EP_MAX_NESTS} (ELOOP).",
                "Nest epoll instances as a tree, a few levels deep at most."),
            Errno.ENOSPC => Make(linux, "MaxUserWatchesReached", ErrorCategory.LimitsExceeded, target,
                $"Cannot register fd {fd}: this user has reached the limit of epoll registrations, fs.epoll.max_user_watches = {ReadMaxUserWatches()} (ENOSPC).",
                "Remove registrations you no longer need, or raise the limit: sysctl -w fs.epoll.max_user_watches=<n> (as root)."),
            _ => ForException(linux, target),
        };
    }

    /// <summary>Any other failure of a cmdlet on one item.</summary>
    public static ErrorRecord ForException(Exception exception, object? target)
    {
        return exception switch
        {
            EpollInstanceClosedException closed => Make(exception,
                "EpollInstanceClosed", ErrorCategory.ResourceUnavailable, target,
                $"The epoll instance (fd {closed.Fd}) is closed: Close-EpollInstance, or the end of the runspace that made it, closed it.",
                "Create a new one with New-EpollInstance."),
            FdAccessModeException access => Make(exception,
                access.Write ? "FdNotOpenForWriting" : "FdNotOpenForReading", ErrorCategory.InvalidOperation, target,
                access.Message,
                access.Kind is FdKind.PipeReadEnd or FdKind.PipeWriteEnd
                    ? $"{(access.Write ? "Write to the pipe's WriteEnd" : "Read from the pipe's ReadEnd")}, or pass the pipe object itself, which picks the right end."
                    : "Pass an fd opened for that direction."),
            ObjectDisposedException => Make(exception, "FdClosed", ErrorCategory.ResourceUnavailable, target,
                exception.Message, "Create a new one; a closed fd cannot be reopened."),
            LinuxErrorException { Errno: Errno.EAGAIN, Operation: "read" } e => Make(e, "ReadWouldBlock",
                ErrorCategory.ResourceUnavailable, target,
                $"Nothing to read on fd {e.Fd}: it is non-blocking, so read(2) returned EAGAIN instead of waiting.",
                "Wait for IN with Wait-Epoll first, or make it blocking with Set-FdOption -NonBlocking $false."),
            LinuxErrorException { Errno: Errno.EAGAIN, Operation: "write" } e => Make(e, "WriteWouldBlock",
                ErrorCategory.ResourceUnavailable, target,
                $"No room to write on fd {e.Fd}: it is non-blocking and full, so write(2) returned EAGAIN.",
                "Read from the other end, or wait for OUT with Wait-Epoll."),
            LinuxErrorException { Errno: Errno.EPIPE } e => Make(e, "BrokenPipe", ErrorCategory.WriteError, target,
                $"Cannot write to fd {e.Fd}: its read end is closed (EPIPE).", "Keep the read end open while writing."),
            LinuxErrorException { Errno: Errno.EBADF } e => Make(e, "BadFileDescriptor", ErrorCategory.InvalidArgument, target,
                $"fd {e.Fd} is not an open file descriptor in this process (EBADF).",
                "Pass the object that owns the fd, and do not close it while in use."),
            // poll(2)'s only EINVAL: more entries than the open-file limit (an entry need not be an open fd).
            LinuxErrorException { Errno: Errno.EINVAL, Operation: "poll" } e => Make(e, "TooManyPollEntries",
                ErrorCategory.LimitsExceeded, target,
                $"poll refused the call (EINVAL): it takes at most as many entries as the open-file limit (RLIMIT_NOFILE), {ThisProcess.OpenFileLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} here, counting the one Wait-Poll adds for Ctrl+C.",
                "Poll fewer fds in one call (epoll has no such limit: New-EpollInstance and Add-EpollFd), or raise the limit (ulimit -n)."),
            LinuxErrorException { Errno: Errno.EMFILE } e => Make(e, "TooManyOpenFiles",
                ErrorCategory.LimitsExceeded, target,
                $"{e.Operation} failed: too many open files (EMFILE): this process holds {OpenFdCount()} fds and its limit (RLIMIT_NOFILE) is {ThisProcess.OpenFileLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}.",
                "Close fds you no longer need (Close-Fd, Close-EpollInstance; Get-FdInfo lists them), or start pwsh with a higher limit (ulimit -n)."),
            LinuxErrorException { Errno: Errno.ENFILE } e => Make(e, "TooManyOpenFiles",
                ErrorCategory.LimitsExceeded, target,
                $"{e.Operation} failed: the system's table of open files is full (ENFILE, fs.file-max = {ReadProcValue("/proc/sys/fs/file-max")}).",
                "Find the process holding the most fds (ls /proc/*/fd | wc -l per process) and close what it leaks; or raise fs.file-max as root."),
            LinuxErrorException e => Make(e, "SystemCallFailed", ErrorCategory.NotSpecified, target, e.Message,
                "See the errno in the message and the system call's man page."),
            ArgumentException e => Make(e, "InvalidArgument", ErrorCategory.InvalidArgument, target, e.Message,
                "Check the parameter values against Get-Help."),
            _ => Make(exception, "UnexpectedError", ErrorCategory.NotSpecified, target, exception.Message,
                "Please report this with the command that caused it."),
        };
    }

    /// <summary>An fd whose owning object was closed: refused before its number, maybe reused, reaches the kernel.</summary>
    public static ErrorRecord ClosedFd(FdArgument fd) => Make(new LinuxErrorException(Errno.EBADF, "use", fd.Number),
        "BadFileDescriptor", ErrorCategory.InvalidArgument, fd.Owner,
        $"fd {fd.Number} was closed (EBADF): its number may already belong to another file.",
        "Create a new fd; a closed one cannot be used again.");

    /// <summary>A -Name that is not a valid wildcard pattern.</summary>
    public static ErrorRecord InvalidNamePattern(string name, WildcardPatternException exception) => Make(exception,
        "InvalidNamePattern", ErrorCategory.InvalidArgument, name,
        $"'{name}' is not a valid wildcard pattern: {exception.Message}",
        "Escape a literal [ or ] with a backtick (`[), quote the name in single quotes, or select the process with -Id.");

    /// <summary>Why an eBPF measurement cannot run here, with what to do, and what works without it (<paramref name="without"/>).</summary>
    public static ErrorRecord ForBpfTrace(Core.Tracing.Exact.BpfTraceException e, string without) => e.Problem switch
    {
        Core.Tracing.Exact.BpfTraceProblem.NotInstalled => Usage("BpftraceNotInstalled", ErrorCategory.NotInstalled, "bpftrace", e.Message,
            $"Install bpftrace (apt-get install bpftrace on Debian and Ubuntu, dnf install bpftrace on Fedora); {without}."),
        Core.Tracing.Exact.BpfTraceProblem.PermissionDenied => Usage("ExactTraceNotPermitted", ErrorCategory.PermissionDenied, "bpftrace", e.Message,
            $"Run pwsh as root (sudo), or give it CAP_BPF and CAP_PERFMON; {without}."),
        Core.Tracing.Exact.BpfTraceProblem.NotSupported => Usage("TracepointsNotAvailable", ErrorCategory.NotImplemented, "/sys/kernel/tracing", e.Message,
            $"Mount tracefs (mount -t tracefs nodev /sys/kernel/tracing, as root); {without}."),
        _ => Usage("BpftraceFailed", ErrorCategory.InvalidOperation, "bpftrace", e.Message,
            $"Run bpftrace --info to see what the kernel supports; {without}."),
    };

    /// <summary>An error found by the cmdlet itself, before any system call.</summary>
    public static ErrorRecord Usage(string errorId, ErrorCategory category, object? target, string message, string hint)
        => Make(new ArgumentException(message), errorId, category, target, message, hint);

    private static ErrorRecord Make(Exception exception, string errorId, ErrorCategory category, object? target, string message, string hint)
    {
        var record = new ErrorRecord(exception, errorId, category, target);
        record.ErrorDetails = new ErrorDetails(message) { RecommendedAction = hint };
        return record;
    }

    private static string ReadMaxUserWatches() => ReadProcValue(MaxUserWatchesPath);

    private static string OpenFdCount()
        => ThisProcess.OpenFdCount()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "all its";

    /// <summary>A one-line /proc/sys value for a message; "?" if it cannot be read (at the fd limit, for one).</summary>
    private static string ReadProcValue(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return "?";
        }
        catch (UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
