using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace EpollTools.HelpBuilder;

/// <summary>Writes cmdlet pages as the MAML XML that PowerShell's Get-Help reads for binary modules.</summary>
internal static partial class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static XDocument Write(IEnumerable<CommandPage> pages)
    {
        var root = new XElement(Msh + "helpItems",
            new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            pages.Select(CommandElement));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    private static XElement CommandElement(CommandPage page)
    {
        var nameParts = page.Name.Split('-', 2);
        return new XElement(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", page.Name),
                new XElement(Command + "verb", nameParts[0]),
                new XElement(Command + "noun", nameParts.Length > 1 ? nameParts[1] : string.Empty),
                Description(page.Synopsis)),
            Description(page.Description),
            new XElement(Command + "syntax", page.SyntaxLines.Select(line => SyntaxItem(page, line))),
            new XElement(Command + "parameters", page.Parameters.Select(p => Parameter(p, p.Required, p.Position))),
            new XElement(Command + "inputTypes", page.Inputs.Select(t => TypeElement("inputType", t))),
            new XElement(Command + "returnValues", page.Outputs.Select(t => TypeElement("returnValue", t))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paragraphs(page.Notes))),
            new XElement(Command + "examples", page.Examples.Select((e, i) => new XElement(Command + "example",
                new XElement(Maml + "title", $"--------- {e.Title} ---------"),
                new XElement(Dev + "code", e.Code),
                new XElement(Dev + "remarks", Paragraphs(e.Remarks))))),
            new XElement(Command + "relatedLinks", page.Links.Select(l => new XElement(Maml + "navigationLink",
                new XElement(Maml + "linkText", l.Text),
                new XElement(Maml + "uri", l.Uri)))));
    }

    /// <summary>One parameter set, from a line of the SYNTAX block such as
    /// <c>Add-EpollFd -Instance &lt;EpollInstance&gt; [-Fd] &lt;FdArgument[]&gt; [[-Events] &lt;EpollEvents&gt;] [-PassThru]</c>.</summary>
    private static XElement SyntaxItem(CommandPage page, string line)
    {
        var item = new XElement(Command + "syntaxItem", new XElement(Maml + "name", page.Name));
        // The cmdlet name comes first and contains a dash itself: only what follows it names parameters.
        string parameters = line.Trim().StartsWith(page.Name, StringComparison.OrdinalIgnoreCase) ? line.Trim().Substring(page.Name.Length) : line;
        foreach (Match token in SyntaxToken().Matches(parameters))
        {
            string name = FirstGroup(token, "optPos", "reqPos", "optNamed", "optSwitch", "reqNamed", "reqSwitch");
            if (name == "CommonParameters")
            {
                continue;
            }

            var doc = page.Parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new FormatException($"{page.Name}: the syntax names -{name}, which has no section under ## PARAMETERS.");
            bool required = token.Groups["reqPos"].Success || token.Groups["reqNamed"].Success || token.Groups["reqSwitch"].Success;
            item.Add(Parameter(doc, required, doc.Position));
        }

        return item;
    }

    private static string FirstGroup(Match match, params string[] names)
        => names.Select(n => match.Groups[n]).First(g => g.Success).Value;

    private static XElement Parameter(ParameterDoc doc, bool required, string position)
    {
        bool isSwitch = doc.Type.Equals("SwitchParameter", StringComparison.OrdinalIgnoreCase);
        var element = new XElement(Command + "parameter",
            new XAttribute("required", required.ToString().ToLowerInvariant()),
            new XAttribute("variableLength", doc.Type.EndsWith("[]", StringComparison.Ordinal).ToString().ToLowerInvariant()),
            new XAttribute("globbing", doc.Globbing.ToString().ToLowerInvariant()),
            new XAttribute("pipelineInput", doc.PipelineInput),
            new XAttribute("position", position.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "named" : position),
            new XAttribute("aliases", doc.Aliases.Length == 0 ? "none" : string.Join(", ", doc.Aliases)),
            new XElement(Maml + "name", doc.Name),
            Description(doc.Description));
        if (!isSwitch)
        {
            element.Add(new XElement(Command + "parameterValue",
                new XAttribute("required", "true"),
                new XAttribute("variableLength", "false"),
                doc.Type));
        }

        element.Add(new XElement(Dev + "type", new XElement(Maml + "name", doc.Type), new XElement(Maml + "uri")));
        element.Add(new XElement(Dev + "defaultValue", doc.DefaultValue));
        return element;
    }

    private static XElement TypeElement(string kind, TypeDoc type) => new(Command + kind,
        new XElement(Dev + "type", new XElement(Maml + "name", type.Name)),
        Description(type.Description));

    private static XElement Description(string text) => new(Maml + "description", Paragraphs(text));

    private static IEnumerable<XElement> Paragraphs(string text) =>
        text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(p => new XElement(Maml + "para", p));

    // Alternatives in order: [[-Name] <T>] optional positional, [-Name] <T> required positional, [-Name <T>] optional,
    // [-Name] optional switch, -Name <T> required, -Name required switch.
    [GeneratedRegex(@"\[\[-(?<optPos>\w+)\]\s*<[^>]+>\]|\[-(?<reqPos>\w+)\]\s*<[^>]+>|\[-(?<optNamed>\w+)\s+<[^>]+>\]|\[-(?<optSwitch>\w+)\]|\[<(?<optSwitch>CommonParameters)>\]|-(?<reqNamed>\w+)\s+<[^>]+>|-(?<reqSwitch>\w+)")]
    private static partial Regex SyntaxToken();
}
