using System;
using System.Collections.Generic;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// A process's fd directory and fdinfo files read by path (/proc/&lt;pid&gt;/fd, /proc/&lt;pid&gt;/fdinfo): a vanished fd
/// reads as null, a vanished process throws <see cref="ProcessGoneException"/>, one this caller may not read
/// <see cref="ProcessAccessDeniedException"/>. Many reads of one process go through <see cref="FdDirectory"/> instead.
/// </summary>
public static class FdFiles
{
    /// <summary>The fds of a process with their link targets, ascending. Throws <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/>.</summary>
    public static List<(int Fd, string Target)> List(int pid)
    {
        using var directory = FdDirectory.Open(pid);
        var fds = new List<(int, string)>();
        foreach (int fd in directory.ListFds())
        {
            if (directory.ReadLink(fd) is string target)
            {
                fds.Add((fd, target));
            }
        }

        return fds;
    }

    /// <summary>/proc/&lt;pid&gt;/fdinfo/&lt;fd&gt;; null if the fd was closed meanwhile.</summary>
    public static string? ReadInfo(int pid, int fd) => FromFdInfo(pid, fd, ProcFileReader.ReadSmallFile);

    /// <summary>
    /// /proc/&lt;pid&gt;/fdinfo/&lt;fd&gt; parsed as it is read, a buffer at a time: the text of an epoll fd with
    /// 100,000 registrations (some 10 MB) is never held whole. Null if the fd was closed meanwhile.
    /// </summary>
    public static ParsedFdInfo? ParseInfo(int pid, int fd) => FromFdInfo(pid, fd, path =>
    {
        var parser = new FdInfoParser.LineParser();
        ProcFileReader.ReadLines(path, parser.Add);
        return parser.Result;
    });

    /// <summary>What <paramref name="read"/> makes of an fd's fdinfo file, with the failures of a process or fd mapped.</summary>
    private static T? FromFdInfo<T>(int pid, int fd, Func<string, T> read)
        where T : class
    {
        string path = $"{ProcFs.Root}/{pid}/fdinfo/{fd}";
        try
        {
            return read(path);
        }
        catch (Exception e) when (ProcessFileFailure.IsFileFailure(e))
        {
            ProcessFileFailure.ThrowIfProcessUnreadable(pid, path, e, processGoneThrows: true);
            return null; // the fd closed between open and read, or ESRCH while the process exits
        }
    }

    /// <summary>
    /// The link target of /proc/&lt;pid&gt;/fd/&lt;fd&gt;; null if the fd is not open (or the process is gone: callers
    /// that must tell the two apart ask <see cref="ProcFs.ProcessExists"/>). A link the caller may not read throws
    /// <see cref="ProcessAccessDeniedException"/>: an unreadable fd is not an absent one.
    /// </summary>
    public static string? ReadLink(int pid, int fd)
    {
        string? link = ProcFileReader.ReadLink($"{ProcFs.Root}/{pid}/fd/{fd}", out int errno);
        return link is null && errno is Errno.EACCES or Errno.EPERM ? throw new ProcessAccessDeniedException(pid) : link;
    }

    /// <summary>How many registrations (tfd lines) the kernel lists for an epoll fd; null if it cannot be read.</summary>
    public static int? CountEpollRegistrations(int pid, int epollFd)
    {
        try
        {
            // Counted as read, a buffer at a time (an instance may print 10 MB); boxed because FromFdInfo's null is
            // the fd closed meanwhile.
            return FromFdInfo(pid, epollFd, path =>
            {
                int count = 0;
                ProcFileReader.ReadLines(path, line => count += line.StartsWith("tfd:", StringComparison.Ordinal) ? 1 : 0);
                return (object)count;
            }) as int?;
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }
}
