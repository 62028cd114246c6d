namespace EpollTools.Core.Proc;

/// <summary>
/// Device numbers as the kernel prints them in fdinfo (sdev): its internal dev_t, include/linux/kdev_t.h
/// MINORBITS = 20, so MAJOR = dev &gt;&gt; 20 and MINOR = dev &amp; 0xfffff. This is not stat(2)'s encoding.
/// </summary>
public static class DeviceNumbers
{
    public const int MINORBITS = 20;
    public const uint MINORMASK = (1u << MINORBITS) - 1;

    public static uint KernelMajor(uint dev) => dev >> MINORBITS;

    public static uint KernelMinor(uint dev) => dev & MINORMASK;

    public static string FormatKernel(uint dev) => $"{KernelMajor(dev)}:{KernelMinor(dev)}";
}
