using EpollTools.Core.Native;

namespace EpollTools.Core;

/// <summary>Facts about the calling process that errors and warnings explain themselves with.</summary>
public static class ThisProcess
{
    /// <summary>RLIMIT_NOFILE's soft limit: the most fds this process may hold; null if getrlimit fails.</summary>
    public static unsafe ulong? OpenFileLimit
    {
        get
        {
            NativeMethods.RLimit limit;
            return NativeMethods.getrlimit(SelectConstants.RLIMIT_NOFILE, &limit) < 0 ? null : limit.Current;
        }
    }

    /// <summary>Whether the effective uid is 0 (root).</summary>
    public static bool IsRoot => NativeMethods.geteuid() == 0;
}
