using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace EpollTools.HelpBuilder;

/// <summary>One parameter of a cmdlet page: its description and the yaml block under it.</summary>
internal sealed record ParameterDoc(
    string Name,
    string Description,
    string Type,
    string[] ParameterSets,
    string[] Aliases,
    bool Required,
    string Position,
    string DefaultValue,
    string PipelineInput,
    bool Globbing);

internal sealed record ExampleDoc(string Title, string Code, string Remarks);

internal sealed record TypeDoc(string Name, string Description);

/// <summary>
/// A cmdlet help page in the platyPS markdown layout (## SYNOPSIS, ## SYNTAX, ## DESCRIPTION, ## EXAMPLES,
/// ## PARAMETERS, ## INPUTS, ## OUTPUTS, ## NOTES, ## RELATED LINKS).
/// </summary>
internal sealed partial class CommandPage
{
    public string Name { get; private set; } = string.Empty;

    public string Synopsis { get; private set; } = string.Empty;

    public List<string> SyntaxLines { get; } = new();

    public string Description { get; private set; } = string.Empty;

    public List<ExampleDoc> Examples { get; } = new();

    public List<ParameterDoc> Parameters { get; } = new();

    public List<TypeDoc> Inputs { get; } = new();

    public List<TypeDoc> Outputs { get; } = new();

    public string Notes { get; private set; } = string.Empty;

    public List<(string Text, string Uri)> Links { get; } = new();

    public static CommandPage Parse(string markdown, string source)
    {
        var page = new CommandPage();
        var lines = StripFrontMatter(markdown.Replace("\r\n", "\n").Split('\n'));
        var sections = SectionsByTitle(lines, "## ");
        page.Name = lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?.Substring(2).Trim()
            ?? throw new FormatException($"{source}: no '# <cmdlet name>' title.");
        page.Synopsis = Text(Require(sections, "SYNOPSIS", source));
        page.SyntaxLines.AddRange(CodeBlocks(Require(sections, "SYNTAX", source)).SelectMany(c => c.Code.Split('\n')).Where(l => l.Trim().Length > 0));
        page.Description = Text(Require(sections, "DESCRIPTION", source));
        foreach (var (title, body) in SectionsInOrder(Require(sections, "EXAMPLES", source), "### "))
        {
            var blocks = CodeBlocks(body);
            if (blocks.Count == 0)
            {
                throw new FormatException($"{source}: example '{title}' has no code block.");
            }

            page.Examples.Add(new ExampleDoc(title, blocks[0].Code, Text(body.Skip(blocks[0].EndLine + 1))));
        }

        if (page.Examples.Count == 0)
        {
            throw new FormatException($"{source}: no examples.");
        }

        foreach (var (title, body) in SectionsInOrder(Require(sections, "PARAMETERS", source), "### "))
        {
            if (title == "CommonParameters")
            {
                continue;
            }

            page.Parameters.Add(ParseParameter(title, body, source));
        }

        page.Inputs.AddRange(Types(sections.GetValueOrDefault("INPUTS")));
        page.Outputs.AddRange(Types(sections.GetValueOrDefault("OUTPUTS")));
        page.Notes = Text(sections.GetValueOrDefault("NOTES") ?? new List<string>());
        foreach (var line in sections.GetValueOrDefault("RELATED LINKS") ?? new List<string>())
        {
            var link = LinkPattern().Match(line);
            if (link.Success)
            {
                page.Links.Add((link.Groups[1].Value, link.Groups[2].Value.EndsWith(".md", StringComparison.Ordinal) ? string.Empty : link.Groups[2].Value));
            }
        }

        return page;
    }

    private static ParameterDoc ParseParameter(string title, List<string> body, string source)
    {
        if (!title.StartsWith('-'))
        {
            throw new FormatException($"{source}: parameter heading '{title}' must start with '-'.");
        }

        var yaml = CodeBlocks(body).FirstOrDefault(c => c.Language == "yaml")
            ?? throw new FormatException($"{source}: parameter {title} has no yaml block.");
        var fields = yaml.Code.Split('\n')
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        string Field(string key) => fields.TryGetValue(key, out var value) ? value
            : throw new FormatException($"{source}: parameter {title} has no '{key}:' line.");
        string[] List(string key) => Field(key).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        return new ParameterDoc(
            title.Substring(1),
            Text(body.Take(yaml.StartLine)),
            Field("Type"),
            List("Parameter Sets"),
            List("Aliases"),
            bool.Parse(Field("Required")),
            Field("Position"),
            Field("Default value"),
            Field("Accept pipeline input"),
            bool.Parse(Field("Accept wildcard characters")));
    }

    private static IEnumerable<TypeDoc> Types(List<string>? body)
    {
        if (body is null)
        {
            yield break;
        }

        foreach (var (title, text) in SectionsInOrder(body, "### "))
        {
            yield return new TypeDoc(title, Text(text));
        }
    }

    private static List<string> Require(Dictionary<string, List<string>> sections, string name, string source)
        => sections.TryGetValue(name, out var body) ? body : throw new FormatException($"{source}: no '## {name}' section.");

    private static string[] StripFrontMatter(string[] lines)
    {
        if (lines.Length > 0 && lines[0].Trim() == "---")
        {
            int end = Array.FindIndex(lines, 1, l => l.Trim() == "---");
            return end > 0 ? lines[(end + 1)..] : lines;
        }

        return lines;
    }

    /// <summary>Splits at headings of one level, outside code blocks: heading text, then the lines under it.</summary>
    private static Dictionary<string, List<string>> SectionsByTitle(IEnumerable<string> lines, string prefix)
    {
        var sections = new Dictionary<string, List<string>>();
        foreach (var (title, body) in SectionsInOrder(lines, prefix))
        {
            sections[title] = body;
        }

        return sections;
    }

    /// <summary>The same, each heading with its lines, in the page's order (examples and parameters keep theirs).</summary>
    private static List<(string Title, List<string> Body)> SectionsInOrder(IEnumerable<string> lines, string prefix)
    {
        var result = new List<(string, List<string>)>();
        List<string>? current = null;
        bool inCode = false;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
            }

            if (!inCode && line.StartsWith(prefix, StringComparison.Ordinal))
            {
                current = new List<string>();
                result.Add((line.Substring(prefix.Length).Trim(), current));
            }
            else
            {
                current?.Add(line);
            }
        }

        return result;
    }

    private sealed record CodeBlock(string Language, string Code, int StartLine, int EndLine);

    private static List<CodeBlock> CodeBlocks(List<string> lines)
    {
        var blocks = new List<CodeBlock>();
        for (int i = 0; i < lines.Count; i++)
        {
            var fence = lines[i].TrimStart();
            if (!fence.StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            int end = lines.FindIndex(i + 1, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
            if (end < 0)
            {
                throw new FormatException($"an unclosed code block starts with '{lines[i]}'.");
            }

            blocks.Add(new CodeBlock(fence.Substring(3).Trim(), string.Join("\n", lines.Skip(i + 1).Take(end - i - 1)), i, end));
            i = end;
        }

        return blocks;
    }

    /// <summary>Markdown paragraphs as plain text: blank lines separate paragraphs, single newlines fold.</summary>
    internal static string Text(IEnumerable<string> lines)
    {
        var paragraphs = new List<string>();
        var current = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                Flush();
            }
            else if (line.TrimStart().StartsWith("- ", StringComparison.Ordinal) || line.StartsWith("    ", StringComparison.Ordinal) || line.StartsWith('|'))
            {
                // Lists, indented code and tables keep their lines.
                Flush();
                paragraphs.Add(line);
            }
            else
            {
                current.Add(line.Trim());
            }
        }

        Flush();
        return string.Join("\n\n", paragraphs.Where(p => p.Length > 0));

        void Flush()
        {
            if (current.Count > 0)
            {
                paragraphs.Add(string.Join(" ", current));
                current.Clear();
            }
        }
    }

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)]*)\)")]
    private static partial Regex LinkPattern();
}
