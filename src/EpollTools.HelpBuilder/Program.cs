using System;
using System.IO;
using System.Linq;
using EpollTools.HelpBuilder;

// Usage: EpollTools.HelpBuilder <folder of cmdlet .md pages> <output .dll-Help.xml>
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: EpollTools.HelpBuilder <docs/cmdlets folder> <output EpollTools.dll-Help.xml>");
    return 2;
}

try
{
    var pages = Directory.GetFiles(args[0], "*-*.md").OrderBy(p => p, StringComparer.Ordinal)
        .Select(path => CommandPage.Parse(File.ReadAllText(path), Path.GetFileName(path)))
        .ToList();
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[1]))!);
    MamlWriter.Write(pages).Save(args[1]);
    Console.WriteLine($"EpollTools.HelpBuilder: {pages.Count} cmdlet pages -> {args[1]}");
    return 0;
}
catch (FormatException e)
{
    // MSBuild shows this as an error with the page name in it.
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
