using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Linq;

namespace EpollTools.Core;

/// <summary>
/// A list property of an output object (its diagnoses, holders, fds...) whose text is its items, joined with "; ".
/// Export-Csv and ConvertTo-Csv write each property's text, and an array's is its type name ("System.String[]");
/// this one's is what it holds. Read-only; an array converts to it implicitly.
/// </summary>
public sealed class ItemList<T> : ReadOnlyCollection<T>
{
    public ItemList(IList<T> items)
        : base(items)
    {
    }

    /// <summary>A list with nothing in it, shared.</summary>
    public static new ItemList<T> Empty { get; } = new(Array.Empty<T>());

    [return: NotNullIfNotNull(nameof(items))]
    public static implicit operator ItemList<T>?(T[]? items) => items is null ? null : items.Length == 0 ? Empty : new(items);

    public override string ToString() => string.Join("; ", this);
}

/// <summary>The named fields of an output object (fdinfo's "key: value" lines), whose text is "key: value; ..." for Export-Csv.</summary>
public sealed class FieldDictionary : Dictionary<string, string>
{
    public FieldDictionary()
        : base(StringComparer.Ordinal)
    {
    }

    public override string ToString() => string.Join("; ", this.Select(field => $"{field.Key}: {field.Value}"));
}
