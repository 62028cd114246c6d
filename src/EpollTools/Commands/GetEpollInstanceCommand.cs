using System.Linq;
using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>Get-EpollInstance: the epoll instances this session created and has not closed.</summary>
[Cmdlet(VerbsCommon.Get, "EpollInstance")]
[OutputType(typeof(EpollInstance))]
public sealed class GetEpollInstanceCommand : PSCmdlet
{
    /// <summary>Only the instances with these epoll fd numbers.</summary>
    [Parameter(Position = 0)]
    public int[]? Fd { get; set; }

    protected override void EndProcessing()
    {
        var instances = SessionResources.OfType<EpollInstance>()
            .Where(i => !i.IsClosed)
            .OrderBy(i => i.Fd)
            .ToList();
        if (Fd is null)
        {
            WriteObject(instances, enumerateCollection: true);
            return;
        }

        foreach (int fd in Fd)
        {
            var match = instances.FirstOrDefault(i => i.Fd == fd);
            if (match is null)
            {
                WriteError(ErrorRecords.Usage("EpollInstanceNotFound", ErrorCategory.ObjectNotFound, fd,
                    $"This session has no open epoll instance with fd {fd}.",
                    "Run Get-EpollInstance without -Fd to list them; it shows only instances this session created."));
            }
            else
            {
                WriteObject(match);
            }
        }
    }
}
