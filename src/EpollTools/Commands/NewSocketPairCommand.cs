using System.Management.Automation;
using EpollTools.Core;

namespace EpollTools.Commands;

/// <summary>New-SocketPair: socketpair(2) of two connected AF_UNIX sockets.</summary>
[Cmdlet(VerbsCommon.New, "SocketPair")]
[OutputType(typeof(SocketPair))]
public sealed class NewSocketPairCommand : FdSourceCommandBase
{
    /// <summary>SOCK_DGRAM instead of SOCK_STREAM.</summary>
    [Parameter]
    public SwitchParameter Datagram { get; set; }

    /// <summary>O_NONBLOCK on both sockets.</summary>
    [Parameter]
    public SwitchParameter NonBlocking { get; set; }

    protected override void EndProcessing() => WriteCreated(() => SocketPair.Create(Datagram, NonBlocking));
}
