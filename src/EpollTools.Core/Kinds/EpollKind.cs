using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Kinds;

/// <summary>An epoll instance: its registrations, one "tfd: ..." line each (fs/eventpoll.c ep_show_fdinfo).</summary>
public sealed class EpollKind : AnonInodeKind
{
    /// <summary>Registered fd numbers named in the description before it stops.</summary>
    private const int TfdsShown = 16;

    protected override string Name => "eventpoll";

    public override (TargetKind Kind, string Description) Describe(FdTarget target)
        => (TargetKind.Epoll, target.Info is { } info
            ? $"epoll ({info.EpollTargets.Count} registered: tfd {string.Join(",", info.EpollTargets.Select(t => t.Tfd).Distinct().Order().Take(TfdsShown))})"
            : "epoll");

    /// <summary>"tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x"; older kernels stop after data.</summary>
    internal static EpollTargetLine ParseLine(ReadOnlySpan<char> line, Dictionary<int, int> epollOffsets)
    {
        int? tfd = null;
        uint? events = null;
        ulong? data = null;
        long? pos = null;
        ulong? ino = null;
        uint? sdev = null;
        var pairs = new FdInfoFields.PairReader(line, 0);
        while (pairs.Next(out var key, out var value))
        {
            // As with the other lines, a key given twice takes its last value, and keys a later kernel adds are skipped.
            switch (key)
            {
                case "tfd":
                    tfd = int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
                    break;
                case "events":
                    events = FdInfoFields.Hex32(value);
                    break;
                case "data":
                    data = FdInfoFields.Hex(value);
                    break;
                case "pos":
                    pos = long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
                    break;
                case "ino":
                    ino = FdInfoFields.Hex(value);
                    break;
                case "sdev":
                    sdev = FdInfoFields.Hex32(value);
                    break;
            }
        }

        int number = tfd ?? throw new FormatException("no 'tfd' field.");
        var mask = (EpollEvents)(events ?? throw new FormatException("no 'events' field."));
        ulong cookie = data ?? throw new FormatException("no 'data' field.");

        // Registrations of different files can share a tfd number; kcmp's KCMP_EPOLL_TFD tells them apart by
        // their order among the lines with that number (the same tree walk prints the lines).
        epollOffsets.TryGetValue(number, out int offset);
        epollOffsets[number] = offset + 1;
        return new EpollTargetLine(number, mask, cookie, pos, ino, sdev, offset);
    }
}
