using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Core.Interest;

/// <summary>The holders of a shared instance besides the one whose fdinfo is read.</summary>
internal sealed class OtherHolders
{
    private readonly Action<IEnumerable<int>> _load;
    private readonly Func<int, FdTable> _table;
    private FdTable[]? _listed;

    public OtherHolders(IEnumerable<int> pids, Action<IEnumerable<int>> load, Func<int, FdTable> table)
    {
        Pids = pids.ToList();
        _load = load;
        _table = table;
    }

    public List<int> Pids { get; }

    public bool Any => Pids.Count > 0;

    /// <summary>
    /// The holder whose <paramref name="fd"/> is the socket or pipe with <paramref name="inode"/>, looked up in
    /// their fd tables (listed on first use), so that a large shared instance costs a lookup per line, not a
    /// readlink per holder.
    /// </summary>
    public int? FindByInode(int fd, ulong inode)
    {
        if (_listed is null)
        {
            _load(Pids);
            _listed = Pids.Select(_table).ToArray();
        }

        foreach (var table in _listed)
        {
            if (table.TryFind(fd, out var entry) && entry.Kind != FdLinkKind.Other && entry.Inode == inode)
            {
                return table.Pid;
            }
        }

        return null;
    }
}
