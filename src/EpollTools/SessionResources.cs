using System;
using System.Collections.Generic;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace EpollTools;

/// <summary>
/// Every fd-owning object the module's cmdlets create, per runspace, so that closing the runspace closes them all.
/// </summary>
internal static class SessionResources
{
    private static readonly ConditionalWeakTable<Runspace, ResourceSet> Sets = new();

    /// <summary>Ties <paramref name="resource"/> to the runspace running the calling pipeline.</summary>
    public static T Track<T>(T resource)
        where T : IDisposable
    {
        var runspace = Runspace.DefaultRunspace;
        if (runspace is not null)
        {
            Sets.GetValue(runspace, r => new ResourceSet(r)).Add(resource);
        }

        return resource;
    }

    /// <summary>Drops the closed objects from the current runspace's list, so that nothing keeps them (or what they hold) alive.</summary>
    public static void ForgetClosed()
    {
        var runspace = Runspace.DefaultRunspace;
        if (runspace is not null && Sets.TryGetValue(runspace, out var set))
        {
            set.ForgetClosed();
        }
    }

    /// <summary>The tracked objects of the current runspace that are of type <typeparamref name="T"/>.</summary>
    public static IReadOnlyList<T> OfType<T>()
    {
        var runspace = Runspace.DefaultRunspace;
        return runspace is not null && Sets.TryGetValue(runspace, out var set) ? set.OfType<T>() : Array.Empty<T>();
    }

    private sealed class ResourceSet
    {
        private readonly List<IDisposable> _items = new();

        public ResourceSet(Runspace runspace) => runspace.StateChanged += OnStateChanged;

        public void Add(IDisposable item)
        {
            lock (_items)
            {
                // Forget what was closed already, so a long session that opens and closes many fds stays small.
                _items.RemoveAll(IsClosed);
                _items.Add(item);
            }
        }

        public void ForgetClosed()
        {
            lock (_items)
            {
                _items.RemoveAll(IsClosed);
            }
        }

        public IReadOnlyList<T> OfType<T>()
        {
            lock (_items)
            {
                var result = new List<T>();
                foreach (var item in _items)
                {
                    if (item is T typed)
                    {
                        result.Add(typed);
                    }
                }

                return result;
            }
        }

        private static bool IsClosed(IDisposable item) => item switch
        {
            EpollTools.Core.EpollInstance instance => instance.IsClosed,
            EpollTools.Core.LinuxFd fd => fd.IsClosed,
            _ => false,
        };

        private void OnStateChanged(object? sender, RunspaceStateEventArgs e)
        {
            var state = e.RunspaceStateInfo.State;
            if (state is not (RunspaceState.Closing or RunspaceState.Closed or RunspaceState.Broken))
            {
                return;
            }

            IDisposable[] items;
            lock (_items)
            {
                items = _items.ToArray();
                _items.Clear();
            }

            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }
}
