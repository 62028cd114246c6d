using EpollTools.Core.Proc;
using Xunit;

namespace EpollTools.Tests.Proc;

public sealed class EpollFdRecordTests
{
    private const string Header = "pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1057\n";
    private const string Lines = "tfd:        5 events:       19 data:                5  pos:0 ino:1057 sdev:f\n" +
                                 "tfd:        7 events: 80000019 data:         deadbeef  pos:0 ino:2a0f sdev:8\n";

    [Fact]
    public void TheSignatureDependsOnTheRegistrationLinesAlone()
    {
        ulong signature = EpollFdRecord.Signature(Header + Lines);
        Assert.Equal(signature, EpollFdRecord.Signature("pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\n" + Lines));
        Assert.NotEqual(signature, EpollFdRecord.Signature(Header + Lines.Replace("deadbeef", "deadbeee")));
        Assert.NotEqual(signature, EpollFdRecord.Signature(Header));
        Assert.Equal(EpollFdRecord.Signature(Header), EpollFdRecord.Signature(string.Empty));
    }
}
