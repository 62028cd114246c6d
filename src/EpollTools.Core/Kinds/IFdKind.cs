using System;
using System.Collections.Generic;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>
/// What is particular to one kind of file an fd can be (a socket, a pipe, an eventfd...): which links name it, the
/// lines of its own in fdinfo, and the one line that says what an fd of it is. Each kind is one class in this folder,
/// listed once in <see cref="FdKinds.All"/>; nothing outside it switches over kinds.
/// </summary>
public interface IFdKind
{
    /// <summary>
    /// Whether this kind describes the file <paramref name="target"/>'s link names. Its status (statx) is read only
    /// when a kind asks: a file with a path is known by its type alone.
    /// </summary>
    bool Claims(FdTarget target);

    /// <summary>What the fd is, in one line, and the kind it is reported as.</summary>
    (TargetKind Kind, string Description) Describe(FdTarget target);

    /// <summary>Takes one "key: value" line of fdinfo if the key is this kind's; false otherwise.</summary>
    bool TryParseField(ParsedFdInfo info, string key, string value) => false;

    /// <summary>Takes one whole fdinfo line that is not key: value ("inotify wd:1 ...") if it is this kind's; false otherwise.</summary>
    bool TryParseLine(ParsedFdInfo info, string line) => false;
}

/// <summary>An fd on an anonymous inode whose name (<c>anon_inode:[name]</c>) says its kind.</summary>
public abstract class AnonInodeKind : IFdKind
{
    private const string Prefix = "anon_inode:";

    /// <summary>The name in the link ("eventfd" for "anon_inode:[eventfd]").</summary>
    protected abstract string Name { get; }

    public bool Claims(FdTarget target) => HasName(target.Link, Name);

    public abstract (TargetKind Kind, string Description) Describe(FdTarget target);

    public virtual bool TryParseField(ParsedFdInfo info, string key, string value) => false;

    public virtual bool TryParseLine(ParsedFdInfo info, string line) => false;

    /// <summary>The key:value pairs of a whole fdinfo line that starts with <paramref name="prefix"/> ("inotify "); null for any other line.</summary>
    protected static Dictionary<string, string>? PairsOfLine(string line, string prefix)
        => line.StartsWith(prefix, StringComparison.Ordinal) ? FdInfoFields.Pairs(line, 1) : null;

    /// <summary>The anonymous inode's name in a link, brackets trimmed; null for any other link.</summary>
    public static string? NameOf(string link) => link.StartsWith(Prefix, StringComparison.Ordinal) ? link[Prefix.Length..].Trim('[', ']') : null;

    /// <summary>Whether <paramref name="link"/> is an anonymous inode named <paramref name="name"/> (read in place: asked of every fd described).</summary>
    public static bool HasName(string link, string name)
        => link.StartsWith(Prefix, StringComparison.Ordinal) && link.AsSpan(Prefix.Length).Trim('[').Trim(']').SequenceEqual(name);
}
