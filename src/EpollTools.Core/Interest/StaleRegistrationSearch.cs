using System;
using EpollTools.Core.Parsing;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Interest;

/// <summary>
/// For a registration judged stale (its number closed or another file there): the fd of the instance's holder that
/// still has the registered file, or the proof that none has it. A table listed once may predate a dup made just
/// before the registered number was closed, and lines of anonymous inodes look alike, so no line can be followed
/// through a change: "not open" is said only from a window in which none of the holders ran (their threads' schedstat
/// unchanged across it, none in R), with the table listed and the interest list read again inside it, the line still
/// there, and no fd of the table (the registered number included) its file. A window stays good for later lines while
/// the holders still have not run; a process busy all along gives none, so only a few are tried per instance.
/// </summary>
internal sealed class StaleRegistrationSearch
{
    /// <summary>Windows in which no holder runs, tried per instance to prove a registered file is under no fd.</summary>
    private const int MaxQuietWindows = 3;

    private readonly RegistrationJudge _judge;
    private readonly int[] _holderPids;
    private readonly Func<long, FdTable> _listOwnerTable;
    private readonly Func<ParsedFdInfo?> _readListAgain;
    private readonly long _readAt;

    private FdTable? _ownerFds;
    private string? _quietSince;
    private ParsedFdInfo? _quietList;
    private int _windowsTried;

    /// <param name="judge">The instance's judge.</param>
    /// <param name="holderPids">Every holder's pid: a window is quiet only while none of them runs.</param>
    /// <param name="listOwnerTable">The holder's fd table, listed no earlier than the timestamp given.</param>
    /// <param name="readListAgain">The holder's interest list read again; null if it cannot be.</param>
    /// <param name="readAt">When the interest list was first read.</param>
    public StaleRegistrationSearch(RegistrationJudge judge, int[] holderPids, Func<long, FdTable> listOwnerTable, Func<ParsedFdInfo?> readListAgain, long readAt)
    {
        _judge = judge;
        _holderPids = holderPids;
        _listOwnerTable = listOwnerTable;
        _readListAgain = readListAgain;
        _readAt = readAt;
    }

    /// <summary>
    /// The holder's fd that has the file of stale <paramref name="line"/> (<c>StillOpenAs</c>), or null with
    /// <c>Proven</c> saying whether "under no fd" is proven (else the row is Unknown).
    /// </summary>
    public (int? StillOpenAs, bool Proven) Search(EpollTargetLine line)
    {
        _ownerFds ??= _listOwnerTable(_readAt); // the whole table: the file may be under any fd
        if (_judge.FindHolder(line, _ownerFds.Entries) is int found)
        {
            return (found, true);
        }

        bool relisted = false;
        if ((_quietSince is null || TaskFiles.ReadRunStamp(_holderPids) != _quietSince) && _windowsTried++ < MaxQuietWindows)
        {
            relisted = true;
            (_quietSince, _quietList) = (null, null);
            string? before = TaskFiles.ReadRunStamp(_holderPids);
            _ownerFds = _listOwnerTable(System.Diagnostics.Stopwatch.GetTimestamp());
            var again = _readListAgain();
            if (before is not null && again is not null && TaskFiles.ReadRunStamp(_holderPids) == before)
            {
                (_quietSince, _quietList) = (before, again);
            }
        }

        // The table searched above, unchanged, needs only the registered number asked again.
        int? stillOpenAs = relisted ? _judge.FindHolder(line, _ownerFds.Entries, includingTfd: true)
            : _judge.HoldsRegisteredFile(line.Tfd, line) ? line.Tfd : null;
        if (stillOpenAs is null && _quietSince is not null && TaskFiles.ReadRunStamp(_holderPids) != _quietSince)
        {
            (_quietSince, _quietList) = (null, null); // kcmp's answers count only while nothing ran
        }

        if (stillOpenAs == line.Tfd)
        {
            // The number holds the registered file again: it changed while read.
            _quietList = null;
            return (null, false);
        }

        return (stillOpenAs, stillOpenAs is not null || (_quietSince is not null && _quietList is not null && _quietList.EpollTargets.Contains(line)));
    }
}
