using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>New-Pipe: pipe2(2); register .ReadEnd for IN, .WriteEnd for OUT.</summary>
[Cmdlet(VerbsCommon.New, "Pipe")]
[OutputType(typeof(Pipe))]
public sealed class NewPipeCommand : PSCmdlet
{
    /// <summary>O_NONBLOCK on both ends.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void EndProcessing()
    {
        try
        {
            var pipe = Pipe.Create(NonBlocking);
            SessionResources.Track(pipe.ReadEnd);
            SessionResources.Track(pipe.WriteEnd);
            WriteObject(pipe);
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null));
        }
    }
}
