using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;
using EpollTools.Core.Waits;
using Xunit;

namespace EpollTools.Tests.Proc;

/// <summary>
/// The parsers' contract: whatever text a kernel (a future or a foreign one) prints, they never throw. Seeded
/// mutations of the captured samples, fed to every public parse entry point; bounded in count, and the same on every
/// run: each sample's generator is seeded from a fixed seed and a stable hash of its name (string.GetHashCode is
/// randomised per process), and a failure names the seed. EPOLLTOOLS_FUZZ_SEED runs another seed, or a failure's again.
/// </summary>
public sealed class ParserFuzzTests
{
    private const int DefaultSeed = 20261125;
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("EPOLLTOOLS_FUZZ_SEED"), out int chosen) ? chosen : DefaultSeed;
    private const int MutantsPerSample = 1500;

    // Values a field could plausibly hold on another kernel: empty, extremes, signs, other bases.
    private static readonly string[] Extremes =
    {
        string.Empty, "0", "-1", "FFFFFFFF", "ffffffffffffffff", "18446744073709551615", "9223372036854775807",
        "99999999999999999999999", "0x", "(", ")", "(1,", "(9223372036854775807, 999999999)", ":", "::", "8", "-",
    };

    private static readonly string Alphabet = "0123456789abcdefABCDEFx:()-, \t\n@[]";

    public static IEnumerable<object[]> Samples() =>
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "tests", "EpollTools.Tests", "Samples"))
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(Samples))]
    public void NoMutationOfASampleMakesAParserThrow(string sample)
    {
        string text = FdInfoParserTests.Sample(sample);
        var random = new Random(Seed ^ StableHash(sample));
        for (int i = 0; i < MutantsPerSample; i++)
        {
            string mutant = Mutate(text, random, 1 + random.Next(4));
            try
            {
                ParseEverything(mutant);
            }
            catch (Exception e)
            {
                Assert.Fail($"{sample}, mutant {i} of seed {Seed} (EPOLLTOOLS_FUZZ_SEED={Seed} runs it again): {e}\n--- text ---\n{mutant}");
            }
        }
    }

    [Theory]
    [InlineData("flags:\t\n")]
    [InlineData("settime flags:\t\n")]
    [InlineData("it_value: (9223372036854775807, 0)\n")]
    [InlineData("it_interval: (-9223372036854775807, 0)\n")]
    [InlineData("flags:\t777777777777777777\n")]
    public void AnOddFieldIsAParseErrorNotAnException(string text)
    {
        var info = FdInfoParser.Parse(text);
        Assert.Single(info.Errors);
        Assert.Null(info.Flags);
    }

    [Fact]
    public void AnInetLineWithAnOutOfRangeStateOrPortIsSkipped()
    {
        const string header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
        string negativeState = "  1: 0100007F:0035 00000000:0000 FFFFFFFF 00000000:00000000 00:00000000 00000000   0 0 4242 2\n";
        string widePort = "  2: 0100007F:FFFFFFFF 00000000:0000 07 00000000:00000000 00:00000000 00000000   0 0 4243 2\n";
        string good = "  3: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   0 0 4244 2\n";
        var entries = NetTableParser.ParseInet(header + negativeState + widePort + good, "UDP").ToList();
        var only = Assert.Single(entries);
        Assert.Equal(4244UL, only.Inode);
        Assert.Equal(53, only.LocalPort);
        Assert.Equal("UNCONNECTED", only.State);
    }

    private static void ParseEverything(string text)
    {
        var info = FdInfoParser.Parse(text);
        _ = FdInfoParser.ParseEpollTargets(text);
        foreach (var target in info.EpollTargets)
        {
            _ = target.Device;
            _ = target.ToString();
        }

        _ = FdInfo.Create(1, "fuzz", 3, "anon_inode:[eventpoll]", (TargetKind.Epoll, "fuzz"), text);
        foreach (string protocol in new[] { "TCP", "TCP6", "UDP", "UDP6", "RAW" })
        {
            foreach (var entry in NetTableParser.ParseInet(text, protocol))
            {
                _ = entry.ToString();
            }
        }

        foreach (var entry in NetTableParser.ParseUnix(text))
        {
            _ = entry.ToString();
        }

        _ = TaskParser.ParseStatState(text);
        _ = TaskParser.ParseStatFlags(text);
        _ = TaskParser.ParseStatStartTime(text);
        _ = TaskParser.ParseStatProcessor(text);
        _ = TaskParser.ParseTracerPid(text);
        _ = CgroupFreezer.ParseCgroupFile(text).Count();
        _ = TaskParser.ParseExecStartMilliseconds(text);
        if (TaskParser.ParseSyscall(text) is { Activity: SyscallActivity.InSyscall } syscall)
        {
            // Whatever the registers say, decoding reads memory only through the reader: here, none is readable.
            foreach (var call in Enum.GetValues<MultiplexerCall>())
            {
                _ = MultiplexerCallDecoder.Decode(call, syscall.Arguments, (_, _) => false);
            }

            if (MultiplexerCallDecoder.Identify(SyscallAbi.I386, syscall.Number) is MultiplexerSyscall compat)
            {
                _ = MultiplexerCallDecoder.Decode(compat, syscall.Arguments, (_, _) => false);
            }
        }
    }

    /// <summary>FNV-1a over the name's UTF-8 bytes: the same number in every process, unlike string.GetHashCode.</summary>
    private static int StableHash(string name)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 16777619;
        }

        return unchecked((int)hash);
    }

    private static string Mutate(string text, Random random, int edits)
    {
        var builder = new StringBuilder(text);
        for (int e = 0; e < edits && builder.Length > 0; e++)
        {
            int at = random.Next(builder.Length);
            switch (random.Next(6))
            {
                case 0:
                    builder.Remove(at, 1);
                    break;
                case 1:
                    builder.Insert(at, Alphabet[random.Next(Alphabet.Length)]);
                    break;
                case 2:
                    builder[at] = Alphabet[random.Next(Alphabet.Length)];
                    break;
                case 3:
                    ReplaceToken(builder, at, Extremes[random.Next(Extremes.Length)]);
                    break;
                case 4:
                    builder.Length = at; // a truncated read
                    break;
                default:
                    // A line repeated elsewhere: fields appearing twice, out of order.
                    string s = builder.ToString();
                    int end = s.IndexOf('\n', at);
                    int start = at == 0 ? 0 : s.LastIndexOf('\n', at - 1) + 1;
                    string line = s.Substring(start, (end < 0 ? s.Length : end) - start);
                    builder.Insert(random.Next(builder.Length + 1), line + "\n");
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>Replaces the whitespace-delimited token around <paramref name="at"/>, keeping a "key:" prefix.</summary>
    private static void ReplaceToken(StringBuilder builder, int at, string value)
    {
        int start = at;
        while (start > 0 && !char.IsWhiteSpace(builder[start - 1]) && builder[start - 1] != ':')
        {
            start--;
        }

        int end = at;
        while (end < builder.Length && !char.IsWhiteSpace(builder[end]))
        {
            end++;
        }

        builder.Remove(start, end - start).Insert(start, value);
    }
}
