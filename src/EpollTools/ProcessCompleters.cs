using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.RegularExpressions;
using EpollTools.Core.Proc;

namespace EpollTools;

/// <summary>Tab completion of -Id: the live pids that start with what was typed, each shown with its name.</summary>
public sealed class ProcessIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        foreach (int pid in ProcFs.ListPids())
        {
            string text = pid.ToString(CultureInfo.InvariantCulture);
            if (!text.StartsWith(wordToComplete, StringComparison.Ordinal))
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

/// <summary>Tab completion of -Name: the names (/proc/&lt;pid&gt;/comm) of live processes, each once, sorted.</summary>
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
            if (name is not null && SafeIsMatch(pattern, name))
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
