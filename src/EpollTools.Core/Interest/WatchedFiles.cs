using System.Collections.Generic;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Waits;

namespace EpollTools.Core.Interest;

/// <summary>
/// The sockets and pipes a process watches: registered in one of its epoll instances, or in the fds of one of its
/// threads' poll or select calls now. What it holds and watches nowhere is read by nobody (a connection an event
/// loop stopped watching, with data waiting).
/// </summary>
public static class WatchedFiles
{
    /// <summary>
    /// The inodes of the sockets and pipes <paramref name="pid"/> watches, from <paramref name="fds"/> (its fd table:
    /// number and link). Throws <see cref="ProcessGoneException"/> and <see cref="ProcessAccessDeniedException"/>.
    /// </summary>
    public static HashSet<(FdLinkKind Kind, ulong Inode)> Of(int pid, IReadOnlyList<(int Fd, string Link)> fds)
    {
        var watched = new HashSet<(FdLinkKind, ulong)>();
        foreach (var (fd, link) in fds)
        {
            if (link != "anon_inode:[eventpoll]" || FdFiles.ParseInfo(pid, fd) is not ParsedFdInfo info)
            {
                continue;
            }

            foreach (var line in info.EpollTargets)
            {
                if (line.Ino is ulong ino)
                {
                    if (PseudoFilesystems.IsOn(line, PseudoFilesystems.SockFs))
                    {
                        watched.Add((FdLinkKind.Socket, ino));
                    }
                    else if (PseudoFilesystems.IsOn(line, PseudoFilesystems.PipeFs))
                    {
                        watched.Add((FdLinkKind.Pipe, ino));
                    }
                }
            }
        }

        var links = new Dictionary<int, string>();
        foreach (var (fd, link) in fds)
        {
            links[fd] = link;
        }

        foreach (var wait in new MultiplexerWaitScanner().Scan(pid, includeAllThreads: false))
        {
            foreach (var waited in wait.Fds)
            {
                if (links.TryGetValue(waited.Fd, out var link) && FdEntry.ParseLink(link) is { } file)
                {
                    watched.Add(file);
                }
            }
        }

        return watched;
    }
}
