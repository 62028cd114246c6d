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

    /// <summary>
    /// How many fds this process holds now (the entries of /proc/self/fd); null when they cannot be counted, which
    /// is when listing the directory would need one fd more than the limit allows.
    /// </summary>
    public static int? OpenFdCount()
    {
        try
        {
            return System.IO.Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (System.IO.IOException)
        {
            return null;
        }
    }

    /// <summary>Whether the effective uid is 0 (root).</summary>
    public static bool IsRoot => NativeMethods.geteuid() == 0;
}
