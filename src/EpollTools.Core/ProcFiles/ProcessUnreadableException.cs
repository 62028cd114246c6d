using System;
using System.IO;
using EpollTools.Core.Native;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// A process whose /proc files cannot be read: gone, or not this caller's to read. What skips such a process (a
/// host-wide search, a process that exits mid-read) catches this one type.
/// </summary>
public abstract class ProcessUnreadableException : Exception
{
    protected ProcessUnreadableException(int pid, string message, Exception? inner)
        : base(message, inner) => Pid = pid;

    public int Pid { get; }
}

/// <summary>The process is gone (it exited, or was never there).</summary>
public sealed class ProcessGoneException : ProcessUnreadableException
{
    public ProcessGoneException(int pid, Exception? inner = null)
        : base(pid, $"Process {pid} does not exist (or exited).", inner)
    {
    }
}

/// <summary>Reading another process's fds needs ptrace read access.</summary>
public sealed class ProcessAccessDeniedException : ProcessUnreadableException
{
    public ProcessAccessDeniedException(int pid, Exception? inner = null)
        : base(pid, $"Access to the fds of process {pid} is denied.", inner)
    {
    }
}

/// <summary>
/// The one policy for a read of a process's /proc file that failed: the fd limit is raised as itself (never taken
/// for a process that is gone), a refusal (at open, or the ptrace check some files make at read time) is
/// <see cref="ProcessAccessDeniedException"/>, and a process that is gone is <see cref="ProcessGoneException"/> where
/// the caller asks for that; anything else means the file itself went (an fd closed, a thread exited) and the caller
/// answers null.
/// </summary>
internal static class ProcessFileFailure
{
    /// <summary>Whether <paramref name="e"/> is a failure this policy knows (the ones .NET's and this module's file reads throw).</summary>
    public static bool IsFileFailure(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>Throws what <paramref name="e"/>, met reading <paramref name="path"/> of <paramref name="pid"/>, means; returns when the file alone is gone.</summary>
    /// <param name="processGoneThrows">Whether a process that is gone is an error here (a listing of it), or a file that is gone like the others (one thread's file).</param>
    public static void ThrowIfProcessUnreadable(int pid, string path, Exception e, bool processGoneThrows)
    {
        switch (e)
        {
            case IOException io when ProcFileReader.IsOutOfFds(io):
                throw ProcFileReader.OutOfFds(io, path);
            case UnauthorizedAccessException:
            case IOException { HResult: Errno.EACCES or Errno.EPERM }:
                throw new ProcessAccessDeniedException(pid, e);
            case FileNotFoundException:
            case IOException when !processGoneThrows:
                return;
            case DirectoryNotFoundException:
            case IOException { HResult: Errno.ESRCH }:
                throw new ProcessGoneException(pid, e);
            case IOException when !Directory.Exists($"{ProcFs.Root}/{pid}"):
                throw new ProcessGoneException(pid, e);
        }
    }
}
