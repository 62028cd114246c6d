namespace EpollTools.Core.Parsing;

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

    /// <summary>
    /// "major:minor". A host has few devices and an interest list names them again and again: each is formatted once
    /// (the first 1,024 seen; past that, every time).
    /// </summary>
    public static string FormatKernel(uint dev)
        => Formatted.TryGetValue(dev, out string? text) ? text
            : Formatted.Count < 1024 ? Formatted.GetOrAdd(dev, Format(dev))
            : Format(dev);

    private static string Format(uint dev) => $"{KernelMajor(dev)}:{KernelMinor(dev)}";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<uint, string> Formatted = new();
}
