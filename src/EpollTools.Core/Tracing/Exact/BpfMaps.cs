using System.Collections.Generic;
using System.Text.Json;

namespace EpollTools.Core.Tracing.Exact;

/// <summary>The maps bpftrace prints as it exits (<see cref="BpfTrace.Maps"/>), read.</summary>
public static class BpfMaps
{
    /// <summary>
    /// Every entry of the maps bpftrace printed (each the JSON of one map: {"@name": {"key": value}}): the map's name,
    /// the key as printed ("pid,tid"), and the value (a number, or a histogram's array of buckets), to be read before
    /// the next entry is taken.
    /// </summary>
    public static IEnumerable<(string Map, string Key, JsonElement Value)> Entries(IEnumerable<string> maps)
    {
        foreach (string json in maps)
        {
            using var document = JsonDocument.Parse(json);
            foreach (var map in document.RootElement.EnumerateObject())
            {
                if (map.Value.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in map.Value.EnumerateObject())
                    {
                        yield return (map.Name, entry.Name, entry.Value);
                    }
                }
            }
        }
    }
}
