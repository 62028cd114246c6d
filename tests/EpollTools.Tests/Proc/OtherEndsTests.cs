using System.Net;
using EpollTools.Core.Chains;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>
/// Where a TCP connection with no peer socket on this host ends a wait chain: a peer that closed is gone, a loopback
/// peer not found is gone, and only an address that may be another host's is outside the host.
/// </summary>
public sealed class OtherEndsTests
{
    private static SocketEntry Tcp(string state, string remote) => new(42, "TCP", state, IPAddress.Parse("127.0.0.1"), 40000, IPAddress.Parse(remote), 8080, null);

    [Theory]
    [InlineData("CLOSE_WAIT", "10.1.2.3")]
    [InlineData("LAST_ACK", "127.0.0.1")]
    [InlineData("TIME_WAIT", "::1")]
    public void APeerThatClosedItsSideIsGone(string state, string remote)
    {
        var ended = OtherEnds.WithoutPeer(Tcp(state, remote));
        Assert.Equal(ChainEnd.Gone, ended?.End);
        Assert.Contains($"closed its side ({state})", ended?.Detail);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.3.4.5")]
    [InlineData("::1")]
    public void AnEstablishedLoopbackPeerNotFoundHereIsGoneNotOnAnotherHost(string remote)
        => Assert.Equal(ChainEnd.Gone, OtherEnds.WithoutPeer(Tcp("ESTABLISHED", remote))?.End);

    [Fact]
    public void AnEstablishedPeerElsewhereMayBeOnAnotherHost()
        => Assert.Null(OtherEnds.WithoutPeer(Tcp("ESTABLISHED", "192.0.2.7")));
}
