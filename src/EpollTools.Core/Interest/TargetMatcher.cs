using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using EpollTools.Core.Native;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;

namespace EpollTools.Core.Interest;

/// <summary>A file named by text, as an operator writes it: a process's fd, a socket or pipe inode, or a path.</summary>
public abstract record TargetSpec
{
    // The shapes, loosely (signs, any length of digits, anything between the brackets), so that a target written in
    // one of them with a number out of range is refused as that form rather than looked for as a path.
    private static readonly Regex ProcessFdPattern = new(@"^([+-]?\d+):([+-]?\d+)$", RegexOptions.CultureInvariant);
    private static readonly Regex InodePattern = new(@"^(socket|pipe):\[(.*)\]$", RegexOptions.CultureInvariant);

    private TargetSpec()
    {
    }

    /// <summary>"1234:5": fd 5 of process 1234, whatever file it is.</summary>
    public sealed record ProcessFd(int Pid, int Fd) : TargetSpec
    {
        public override string ToString() => $"{Pid}:{Fd}";
    }

    /// <summary>"socket:[123]" or "pipe:[123]", as /proc/&lt;pid&gt;/fd links, lsof and ss show them (a pipe's inode names both its ends).</summary>
    public sealed record Inode(TargetKind Kind, ulong Number) : TargetSpec
    {
        public override string ToString() => $"{(Kind == TargetKind.Socket ? "socket" : "pipe")}:[{Number}]";
    }

    /// <summary>An absolute path: a file, a FIFO, a device, or a unix socket's path.</summary>
    public sealed record FilePath(string Path) : TargetSpec
    {
        public override string ToString() => Path;
    }

    /// <summary>
    /// Reads a target written as pid:fd, socket:[inode], pipe:[inode] or an absolute path. Text in the pid:fd or inode
    /// form with a number out of range throws <see cref="MalformedTargetException"/>; other text a
    /// <see cref="FormatException"/> that says which forms there are (it may still be a relative path).
    /// </summary>
    public static TargetSpec Parse(string text)
    {
        string trimmed = text.Trim();
        var processFd = ProcessFdPattern.Match(trimmed);
        if (processFd.Success)
        {
            return int.TryParse(processFd.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0
                && int.TryParse(processFd.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int fd)
                ? new ProcessFd(pid, fd)
                : throw new MalformedTargetException($"'{text}' is not a pid:fd: the pid is a whole number from 1 to {int.MaxValue} and the fd one from 0 to {int.MaxValue}.");
        }

        var inode = InodePattern.Match(trimmed);
        if (inode.Success)
        {
            return ulong.TryParse(inode.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number) && number > 0
                ? new Inode(inode.Groups[1].Value == "socket" ? TargetKind.Socket : TargetKind.Pipe, number)
                : throw new MalformedTargetException($"'{text}' is not a {inode.Groups[1].Value}:[inode]: the inode is a whole number from 1 to {ulong.MaxValue}.");
        }

        if (trimmed.StartsWith('/'))
        {
            return new FilePath(text.TrimStart()); // a path may end in spaces: every byte of it is the name
        }

        throw new FormatException($"'{text}' does not name a file: write pid:fd (1234:5), socket:[inode] or pipe:[inode] as /proc and lsof show them, or an absolute path.");
    }
}

/// <summary>Text in the form of a pid:fd or an inode target whose numbers are out of range: never a path.</summary>
public sealed class MalformedTargetException : FormatException
{
    public MalformedTargetException(string message)
        : base(message)
    {
    }
}

/// <summary>A target that names no file now: the fd is closed, the process gone, or the path missing.</summary>
public sealed class TargetNotFoundException : Exception
{
    public TargetNotFoundException(TargetSpec target, string message)
        : base(message) => Target = target;

    public TargetSpec Target { get; }
}

/// <summary>
/// Which registrations are of the files asked for, tested on each fdinfo line before anything is resolved: by inode
/// and device, exactly (kcmp) for files on the anonymous inode that eventfds, timerfds and epoll share, and for ports
/// and unix socket paths through the network tables of the instance owner's network namespace.
/// </summary>
public sealed class TargetMatcher
{
    private readonly TargetResolver _resolver;
    private readonly List<Test> _tests = new();

    public TargetMatcher(TargetResolver resolver) => _resolver = resolver;

    /// <summary>Whether nothing was added: every line then matches.</summary>
    public bool IsEmpty => _tests.Count == 0;

    /// <summary>
    /// The targets no line has matched so far (after a scan: the files that no instance read registers), each as it
    /// was asked for: its <see cref="TargetSpec"/>, or a port.
    /// </summary>
    public IEnumerable<(TargetSpec? Target, int? Port)> Unmatched => _tests.Where(t => !t.Hit).Select(t => (t.Target, t.Port));

    /// <summary>TCP and UDP sockets (IPv4 and IPv6) whose local port is one of <paramref name="ports"/>.</summary>
    public void AddPorts(IReadOnlyCollection<int> ports)
    {
        foreach (int wanted in ports.Distinct())
        {
            _tests.Add(new Test(null, wanted, (owner, line) => PseudoFilesystems.IsOn(line, PseudoFilesystems.SockFs)
                && line.Ino is ulong ino && _resolver.FindSocket(owner.Pid, ino) is { LocalPort: int port, Path: null } && port == wanted));
        }
    }

    /// <summary>
    /// The file <paramref name="target"/> names, as it is now. Throws <see cref="TargetNotFoundException"/> when it
    /// names nothing, and <see cref="ProcessGoneException"/> or <see cref="ProcessAccessDeniedException"/> for a pid:fd
    /// of a process that is gone or that this caller may not read.
    /// </summary>
    public void Add(TargetSpec target)
    {
        switch (target)
        {
            case TargetSpec.ProcessFd(int pid, int fd):
                string link = FdFiles.ReadLink(pid, fd)
                    ?? throw (ProcFs.ProcessExists(pid) ? new TargetNotFoundException(target, $"Process {pid} has no fd {fd}.") : new ProcessGoneException(pid));
                var status = FileIdentity.StatFd(pid, fd) ?? throw new TargetNotFoundException(target, $"Process {pid} closed fd {fd} while it was read.");

                // An fd names one open file: inode and device narrow it down, kcmp says whether the registration is that
                // very file (a pipe's two ends share an inode; eventfds, timerfds and epoll instances all share one).
                // Where kcmp cannot tell, the inode decides, except on the shared anonymous inode.
                bool anonymous = link.StartsWith("anon_inode:", StringComparison.Ordinal);
                _tests.Add(new Test(target, null, (owner, line) => SameFile(line, status)
                    && (FileIdentity.SameEpollTarget(pid, fd, owner.Pid, owner.Fd, line.Tfd, line.Offset) ?? !anonymous)));
                break;

            case TargetSpec.Inode(TargetKind kind, ulong number):
                _tests.Add(new Test(target, null, (_, line) => line.Ino == number && PseudoFilesystems.IsOn(line, kind == TargetKind.Socket ? PseudoFilesystems.SockFs : PseudoFilesystems.PipeFs)));
                break;

            case TargetSpec.FilePath(string path):
                var file = FileIdentity.StatPath(path) ?? throw new TargetNotFoundException(target, $"No file at {path} (or it cannot be reached).");
                if (file.Type == StatxConstants.S_IFSOCK)
                {
                    // The path names a unix socket; the registered files are the sockets bound to it (and accepted from it).
                    _tests.Add(new Test(target, null, (owner, line) => PseudoFilesystems.IsOn(line, PseudoFilesystems.SockFs)
                        && line.Ino is ulong ino && _resolver.FindSocket(owner.Pid, ino)?.Path == path));
                }
                else
                {
                    _tests.Add(new Test(target, null, (_, line) => SameFile(line, file)));
                }

                break;
        }
    }

    /// <summary>
    /// Whether <paramref name="line"/> of the instance read through <paramref name="owner"/> is one of the files asked
    /// for; every target it is is marked as met (<see cref="Unmatched"/>).
    /// </summary>
    public bool Matches(InstanceHolder owner, EpollTargetLine line)
    {
        bool any = IsEmpty;
        foreach (var test in _tests)
        {
            if (test.Matches(owner, line))
            {
                test.Hit = true;
                any = true;
            }
        }

        return any;
    }

    /// <summary>One file (or port) asked for, and whether a line has been found to be it.</summary>
    private sealed class Test
    {
        public Test(TargetSpec? target, int? port, Func<InstanceHolder, EpollTargetLine, bool> matches)
        {
            Target = target;
            Port = port;
            Matches = matches;
        }

        public TargetSpec? Target { get; }

        public int? Port { get; }

        public Func<InstanceHolder, EpollTargetLine, bool> Matches { get; }

        public bool Hit { get; set; }
    }

    private static bool SameFile(EpollTargetLine line, FileStatus status)
        => line.Ino == status.Ino && PseudoFilesystems.IsOn(line, (status.DevMajor, status.DevMinor));
}
