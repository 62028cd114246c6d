using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.RegularExpressions;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Targets;
using EpollTools.Core.Waits;

namespace EpollTools;

/// <summary>
/// Tab completion of -Id: the live pids that start with what was typed, each shown with its name. Kernel threads are
/// left out: they hold no fds and wait on nothing a user could ask about.
/// </summary>
public sealed class ProcessIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        foreach (int pid in ProcFs.ListPids())
        {
            string text = pid.ToString(CultureInfo.InvariantCulture);
            if (!text.StartsWith(wordToComplete, StringComparison.Ordinal) || ProcessCondition.IsKernelThread(pid))
            {
                continue;
            }

            string? name = ProcFs.ReadComm(pid);
            if (name is not null)
            {
                yield return new CompletionResult(text, $"{text} {name}", CompletionResultType.ParameterValue, $"{text} {name}");
            }
        }
    }
}

/// <summary>Tab completion of -Name: the names (/proc/&lt;pid&gt;/comm) of live processes, each once, sorted; no kernel thread.</summary>
public sealed class ProcessNameCompleter : IArgumentCompleter
{
    private static readonly Regex PlainWord = new(@"^[\w.:/+-]+$", RegexOptions.CultureInvariant);

    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        // What was typed may carry quotes and may be a pattern already: match it as a prefix pattern.
        string typed = wordToComplete.Trim('\'', '"');
        var pattern = new WildcardPattern(WildcardPattern.ContainsWildcardCharacters(typed) ? typed : typed + "*", WildcardOptions.IgnoreCase);
        var names = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (int pid in ProcFs.ListPids())
        {
            string? name = ProcFs.ReadComm(pid);
            if (name is not null && SafeIsMatch(pattern, name) && !ProcessCondition.IsKernelThread(pid))
            {
                names[name] = names.TryGetValue(name, out int count) ? count + 1 : 1;
            }
        }

        foreach (var (name, count) in names)
        {
            // -Name takes a pattern, so wildcard characters in a name are escaped; anything the parser would read
            // as syntax is quoted.
            string literal = WildcardPattern.Escape(name);
            string text = PlainWord.IsMatch(literal) ? literal : "'" + literal.Replace("'", "''") + "'";
            yield return new CompletionResult(text, name, CompletionResultType.ParameterValue, count == 1 ? $"{name} (1 process)" : $"{name} ({count} processes)");
        }
    }

    private static bool SafeIsMatch(WildcardPattern pattern, string name)
    {
        try
        {
            return pattern.IsMatch(name);
        }
        catch (WildcardPatternException)
        {
            return false; // a half-typed pattern such as "ng[" completes nothing rather than failing
        }
    }
}

/// <summary>
/// Tab completion of -EpollFd: the epoll fds of the process -Id names (the first, if several), or of this one, each
/// shown with how many registrations it has.
/// </summary>
public sealed class EpollFdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        int pid = FirstId(fakeBoundParameters["Id"]) ?? Environment.ProcessId;
        List<(int Fd, string Target)> fds;
        try
        {
            fds = FdFiles.List(pid);
        }
        catch (ProcessUnreadableException)
        {
            yield break;
        }

        foreach (var (fd, target) in fds)
        {
            string text = fd.ToString(CultureInfo.InvariantCulture);
            if (target == "anon_inode:[eventpoll]" && text.StartsWith(wordToComplete, StringComparison.Ordinal))
            {
                string count = FdFiles.CountEpollRegistrations(pid, fd) is int n ? $"{n} registered" : "registrations not readable";
                yield return new CompletionResult(text, text, CompletionResultType.ParameterValue, $"epoll fd {text} of {pid} ({count})");
            }
        }
    }

    private static int? FirstId(object? bound) => bound switch
    {
        int id => id,
        int[] { Length: > 0 } ids => ids[0],
        object[] { Length: > 0 } items when items[0] is int id => id,
        _ => null,
    };
}

/// <summary>
/// Tab completion of -TargetPort: the local ports of this network namespace's TCP listeners and bound UDP sockets
/// (from /proc/net), each once, with what listens there.
/// </summary>
public sealed class LocalPortCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var ports = new SortedDictionary<int, SortedSet<string>>();
        foreach (var socket in SocketTables.ListeningSockets(Environment.ProcessId))
        {
            if (socket.LocalPort is int port && port > 0)
            {
                if (!ports.TryGetValue(port, out var kinds))
                {
                    ports[port] = kinds = new SortedSet<string>(StringComparer.Ordinal);
                }

                kinds.Add(socket.Protocol);
            }
        }

        foreach (var (port, kinds) in ports)
        {
            string text = port.ToString(CultureInfo.InvariantCulture);
            if (text.StartsWith(wordToComplete, StringComparison.Ordinal))
            {
                yield return new CompletionResult(text, text, CompletionResultType.ParameterValue, $"{text} ({string.Join(", ", kinds)})");
            }
        }
    }
}
