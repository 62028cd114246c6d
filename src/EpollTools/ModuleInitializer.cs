using System;
using System.Management.Automation;
using System.Runtime.InteropServices;

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
    }
}
