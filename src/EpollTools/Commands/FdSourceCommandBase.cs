using System;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>What the New-* cmdlets share: make an fd-owning object, tie its fds to the runspace, write it.</summary>
public abstract class FdSourceCommandBase : PSCmdlet
{
    /// <summary>
    /// Writes what <paramref name="create"/> makes, each of its fds tied to this runspace so that closing the runspace
    /// closes them; a failed system call (at the fd limit, say) ends the command with its ErrorRecord, naming
    /// <paramref name="target"/>.
    /// </summary>
    protected void WriteCreated<T>(Func<T> create, object? target = null)
        where T : class
    {
        T created;
        try
        {
            created = create();
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, target));
            return;
        }

        switch (created)
        {
            case Pipe pipe:
                SessionResources.Track(pipe.ReadEnd);
                SessionResources.Track(pipe.WriteEnd);
                break;
            case SocketPair pair:
                SessionResources.Track(pair.First);
                SessionResources.Track(pair.Second);
                break;
            case IDisposable owner:
                SessionResources.Track(owner);
                break;
        }

        WriteObject(created);
    }
}
