using System;
using System.Collections.Generic;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;

namespace EpollTools;

/// <summary>
/// What Get-EpollInterest -Target accepts, turned into the files it names: text (pid:fd, socket:[inode],
/// pipe:[inode], a path), the module's fd objects (fds of this process), Get-FdInfo rows and EpollInterest rows
/// (their target's file), and deserialized objects with ProcessId and Fd.
/// </summary>
internal static class TargetArgument
{
    private const string Forms = "Give pid:fd (1234:5), socket:[inode] or pipe:[inode] as /proc and lsof show them, a path, an fd object of this module, or a Get-FdInfo row; a port goes to -TargetPort.";

    /// <summary>The files <paramref name="item"/> names; an item that names none is a non-terminating error and yields nothing.</summary>
    public static IEnumerable<TargetSpec> ToSpecs(PSCmdlet cmdlet, object? item)
    {
        object? value = item is PSObject ps ? ps.BaseObject : item;
        switch (value)
        {
            case string text:
                return FromText(cmdlet, text) is TargetSpec spec ? new[] { spec } : Array.Empty<TargetSpec>();
            case Pipe pipe:
                return new[] { ThisProcess(pipe.ReadEnd.Fd), ThisProcess(pipe.WriteEnd.Fd) };
            case SocketPair pair:
                return new[] { ThisProcess(pair.First.Fd), ThisProcess(pair.Second.Fd) };
            case FdInfo fd:
                return new[] { new TargetSpec.ProcessFd(fd.ProcessId, fd.Fd) };
            case EpollInterest row:
                return FromRegistration(cmdlet, row, item);
            case sbyte or byte or short or ushort or int or uint or long or ulong:
                Refuse(cmdlet, item, $"The number {value} could be a port, an inode or an fd.", "Use -TargetPort for a port, 'socket:[N]' for an inode, or 'pid:fd' for an fd.");
                return Array.Empty<TargetSpec>();
        }

        if (item is PSObject bag && bag.Properties["ProcessId"]?.Value is object pid && bag.Properties["Fd"]?.Value is object number)
        {
            // A Get-FdInfo row that crossed a remoting or Export-Clixml boundary, or an object made to look like one.
            if (LanguagePrimitives.TryConvertTo(pid, out int processId) && processId > 0 && LanguagePrimitives.TryConvertTo(number, out int fd) && fd >= 0)
            {
                return new[] { new TargetSpec.ProcessFd(processId, fd) };
            }

            Refuse(cmdlet, item, $"ProcessId {pid} and Fd {number} do not name a process's fd: the pid is a whole number from 1 to {int.MaxValue} and the fd one from 0 to {int.MaxValue}.", Forms);
            return Array.Empty<TargetSpec>();
        }

        FdArgument fdArgument;
        try
        {
            fdArgument = FdArgument.From(value);
        }
        catch (ArgumentTransformationMetadataException)
        {
            Refuse(cmdlet, item, $"A {value?.GetType().FullName ?? "null"} does not name a file.", Forms);
            return Array.Empty<TargetSpec>();
        }

        if (fdArgument.IsClosed)
        {
            Refuse(cmdlet, item, $"The object that owned fd {fdArgument.Number} is closed: it names no file now.", "Pass an open fd object.");
            return Array.Empty<TargetSpec>();
        }

        return new[] { ThisProcess(fdArgument.Number) };
    }

    private static TargetSpec ThisProcess(int fd) => new TargetSpec.ProcessFd(Environment.ProcessId, fd);

    private static TargetSpec? FromText(PSCmdlet cmdlet, string text)
    {
        try
        {
            return TargetSpec.Parse(text);
        }
        catch (MalformedTargetException e)
        {
            Refuse(cmdlet, text, e.Message, Forms);
            return null;
        }
        catch (FormatException e)
        {
            // A relative path, from the current location, as other cmdlets take paths.
            if (ResolvePath(cmdlet, text) is string resolved && FileIdentity.StatPath(resolved) is not null)
            {
                return new TargetSpec.FilePath(resolved);
            }

            Refuse(cmdlet, text, e.Message, Forms);
            return null;
        }
    }

    /// <summary>
    /// <paramref name="text"/> as a file system path from the current location ("~" and PowerShell's file system
    /// drives understood); text that PowerShell reads as another drive or provider ("zz:foo") is taken as a file
    /// name relative to the current directory, as Linux sees it. Null where it makes no absolute path.
    /// </summary>
    private static string? ResolvePath(PSCmdlet cmdlet, string text)
    {
        try
        {
            string resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(text);
            if (resolved.StartsWith('/'))
            {
                return resolved;
            }
        }
        catch (Exception e) when (e is SessionStateException or ProviderInvocationException or NotSupportedException or ArgumentException or PSInvalidOperationException)
        {
            // "0:" or "zz:" read as a drive that does not exist: fall through to the plain file name.
        }

        string? current = cmdlet.SessionState.Path.CurrentFileSystemLocation?.ProviderPath;
        return current is not null && current.StartsWith('/') ? System.IO.Path.Combine(current, text) : null;
    }

    /// <summary>The file a registration is of: its tfd where it is current, else the fd that still holds the file.</summary>
    private static IEnumerable<TargetSpec> FromRegistration(PSCmdlet cmdlet, EpollInterest row, object? item)
    {
        if (row.State == RegistrationState.Current)
        {
            return new[] { new TargetSpec.ProcessFd(row.TargetProcessId, row.TargetFd) };
        }

        if (row.StillOpenAs is int holder)
        {
            return new[] { new TargetSpec.ProcessFd(row.ProcessId, holder) };
        }

        Refuse(cmdlet, item, $"The registered file of fd {row.TargetFd} in epoll fd {row.EpollFd} of process {row.ProcessId} is not open under any fd of that process now, so it cannot be named.",
            $"Name it by inode instead: 'socket:[{row.TargetInode}]' or 'pipe:[{row.TargetInode}]' if it is one.");
        return Array.Empty<TargetSpec>();
    }

    private static void Refuse(PSCmdlet cmdlet, object? item, string message, string hint)
        => cmdlet.WriteError(ErrorRecords.Usage("InvalidTarget", ErrorCategory.InvalidArgument, item, message, hint));
}
