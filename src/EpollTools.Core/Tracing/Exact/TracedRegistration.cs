using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>
/// A registration as this trace knows it: its fd, the mask as stored (ERR|HUP added), its data, whether a one-shot
/// fired, and whether its fd was closed while another fd keeps its file (stale: the fd number may be another file's now).
/// </summary>
internal sealed class TracedRegistration
{
    public int Fd;
    public EpollEvents Events;
    public ulong Data;
    public bool Disarmed;
    public bool Stale;

    /// <summary>The registration an fd number of the process is now (not a stale one left by a closed fd).</summary>
    public static TracedRegistration? Current(List<TracedRegistration> list, int fd) => list.Find(r => r.Fd == fd && !r.Stale);

    /// <summary>Whether the instance still has a line for the fd with that data; null if the process cannot be read now.</summary>
    public static bool? Registered(int pid, int epollFd, int fd, ulong data)
    {
        try
        {
            return FdFiles.ParseInfo(pid, epollFd) is { } info ? info.EpollTargets.Any(line => line.Tfd == fd && line.Data == data) : null;
        }
        catch (ProcessUnreadableException)
        {
            return null;
        }
    }

    /// <summary>"IN|ET 0x5", as the sampled trace says a registration; the ERR|HUP every registration has is left out.</summary>
    public static string Describe(EpollEvents events, ulong data) => $"{EpollEventsText.ToShortString(events & ~(EpollEvents.Err | EpollEvents.Hup))} 0x{data:x}";
}
