using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>New-Pipe: pipe2(2); register .ReadEnd for IN, .WriteEnd for OUT.</summary>
[Cmdlet(VerbsCommon.New, "Pipe")]
[OutputType(typeof(Pipe))]
public sealed class NewPipeCommand : FdSourceCommandBase
{
    /// <summary>O_NONBLOCK on both ends.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void EndProcessing() => WriteCreated(() => Pipe.Create(NonBlocking));
}
