using System;
using System.Collections.Generic;
using EpollTools.Core.Native;

namespace EpollTools.Core.ProcFiles;

/// <summary>
/// The <see cref="FdDirectory"/> of each process one piece of work reads, opened on first use and closed together.
/// A process that is gone has none (its links read as null), and so has one that took the pid of the process the
/// work expects (its start time differs).
/// </summary>
public sealed class FdDirectories : IDisposable
{
    private readonly Dictionary<int, FdDirectory?> _open = new();

    /// <summary>
    /// The directory of <paramref name="pid"/>; null if the process is gone, or if it is not the one named by
    /// <paramref name="identity"/> (<see cref="FdDirectory.Identity"/>, when given). Throws <see cref="ProcessAccessDeniedException"/>.
    /// </summary>
    public FdDirectory? Of(int pid, ulong? identity = null)
    {
        if (!_open.TryGetValue(pid, out var directory))
        {
            try
            {
                directory = FdDirectory.Open(pid);
            }
            catch (ProcessGoneException)
            {
                directory = null;
            }

            _open[pid] = directory;
        }

        if (directory is not null && identity is not null && directory.Identity != identity)
        {
            // Another process has the pid: nothing of this piece of work is read from it, whoever asks next.
            directory.Dispose();
            _open[pid] = directory = null;
        }

        return directory;
    }

    /// <summary>Whether the process read as <paramref name="pid"/> is gone, a zombie or exiting (see <see cref="FdDirectory.HasExited"/>).</summary>
    public bool HasExited(int pid) => Of(pid) is not FdDirectory directory || directory.HasExited;

    /// <summary>Whether the process read as <paramref name="pid"/> still exists: calls made by its pid meanwhile were to it.</summary>
    public bool IsAlive(int pid) => Of(pid)?.IsAlive == true;

    /// <summary>The link of fd <paramref name="fd"/> of <paramref name="pid"/>, as <see cref="FdFiles.ReadLink"/> gives it.</summary>
    public string? ReadLink(int pid, int fd) => Of(pid)?.ReadLink(fd);

    /// <summary>The fdinfo of fd <paramref name="fd"/> of <paramref name="pid"/>; null if it is not open or the process is gone.</summary>
    public string? ReadFdInfo(int pid, int fd) => Of(pid)?.ReadFdInfo(fd);

    public void Dispose()
    {
        foreach (var directory in _open.Values)
        {
            directory?.Dispose();
        }

        _open.Clear();
    }
}
