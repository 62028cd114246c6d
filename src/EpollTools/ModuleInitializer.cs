using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
using EpollTools.Core.ProcFiles;

namespace EpollTools;

/// <summary>
/// Refuses to import anywhere but Linux, with one clear message instead of a later DllNotFoundException, and loads
/// EpollTools.Core at import so that its types ([EpollTools.Core.Proc.EpollInterest]...) resolve before any cmdlet ran.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            throw new PlatformNotSupportedException(
                $"EpollTools works only on Linux: epoll and /proc are Linux kernel interfaces. This is {RuntimeInformation.OSDescription}.");
        }

        _ = typeof(Core.EpollInstance).Assembly;
        LoadWhatTheFdLimitWouldRefuse();
    }

    /// <summary>
    /// Loading an assembly maps its file, which takes an fd: at the open-file limit a cmdlet's first use of a type
    /// from another assembly would fail with FileNotFoundException, and a type initializer that fails stays failed
    /// for the life of the session (TypeInitializationException ever after). What the cmdlets use from the framework
    /// beyond what pwsh has loaded is loaded and initialized here, while fds are free.
    /// </summary>
    private static void LoadWhatTheFdLimitWouldRefuse()
    {
        // Addresses and ports (Get-EpollInterest -TargetPort, socket targets, Get-FdInfo).
        _ = System.Net.IPAddress.Loopback;
        _ = System.Net.IPAddress.IPv6Loopback.IsIPv4MappedToIPv6;

        // Vectorized LINQ and span searches (Wait-Select's highest fd, fd lists).
        _ = System.Runtime.Intrinsics.Vector128<int>.Count;
        _ = System.Linq.Enumerable.Max(new[] { 1, 2 });
        _ = System.MemoryExtensions.IndexOf(stackalloc byte[] { 1, 2 }, (byte)2);

        // Parallel listing of fd tables.
        System.Threading.Tasks.Parallel.For(0, 1, _ => { });

        // Whether pidfs names processes here: learned once, with a pidfd of this process and one of init.
        _ = Core.ProcFiles.ProcessIdentity.PidfsInode(Environment.ProcessId);
    }
}
