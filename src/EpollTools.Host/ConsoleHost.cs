using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text.RegularExpressions;

namespace EpollTools.Host;

/// <summary>The PSHost the engine talks to: text to stdout/stderr, prompts from stdin.</summary>
internal sealed class ConsoleHost : PSHost
{
    private readonly ConsoleUserInterface _ui = new();

    public override string Name => "EpollTools.Host";

    public override Version Version => typeof(ConsoleHost).Assembly.GetName().Version ?? new Version(0, 1);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override PSHostUserInterface UI => _ui;

    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    public int? ExitCode { get; private set; }

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;

    public override void EnterNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");

    public override void ExitNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }
}

internal sealed partial class ConsoleUserInterface : PSHostUserInterface
{
    private readonly ConsoleRawUserInterface _rawUI = new();
    private readonly bool _plain = Console.IsOutputRedirected || Environment.GetEnvironmentVariable("NO_COLOR") is not null;

    public override PSHostRawUserInterface RawUI => _rawUI;

    public override bool SupportsVirtualTerminal => !_plain;

    public override string ReadLine() => Console.ReadLine() ?? string.Empty;

    public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("Secure input is not supported by this host.");

    public override void Write(string value) => Console.Out.Write(Plain(value));

    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);

    public override void WriteLine(string value) => Console.Out.WriteLine(Plain(value));

    public override void WriteErrorLine(string value) => Console.Error.WriteLine(Plain(value));

    public override void WriteWarningLine(string message) => Console.Error.WriteLine("WARNING: " + message);

    public override void WriteVerboseLine(string message) => Console.Error.WriteLine("VERBOSE: " + message);

    public override void WriteDebugLine(string message) => Console.Error.WriteLine("DEBUG: " + message);

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        var answers = new Dictionary<string, PSObject>();
        foreach (var field in descriptions)
        {
            Console.Out.Write($"{field.Name}: ");
            answers[field.Name] = PSObject.AsPSObject(ReadLine());
        }

        return answers;
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        Console.Out.WriteLine(caption);
        Console.Out.WriteLine(message);
        for (int i = 0; i < choices.Count; i++)
        {
            Console.Out.WriteLine($"[{i}] {choices[i].Label.Replace("&", string.Empty)}");
        }

        Console.Out.Write($"Choice (default {defaultChoice}): ");
        return int.TryParse(Console.ReadLine(), out int choice) && choice >= 0 && choice < choices.Count ? choice : defaultChoice;
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName)
        => throw new NotSupportedException("Credential prompts are not supported by this host.");

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
        => throw new NotSupportedException("Credential prompts are not supported by this host.");

    private string Plain(string value) => _plain ? AnsiEscape().Replace(value, string.Empty) : value;

    [GeneratedRegex("\u001b\\[[0-9;?]*[A-Za-z]")]
    private static partial Regex AnsiEscape();
}

internal sealed class ConsoleRawUserInterface : PSHostRawUserInterface
{
    private const int DefaultWidth = 120;

    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;

    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;

    public override Size BufferSize
    {
        get => new(Width, 9999);
        set { }
    }

    public override Coordinates CursorPosition { get; set; }

    public override int CursorSize { get; set; }

    public override bool KeyAvailable => false;

    public override Size MaxPhysicalWindowSize => new(Width, 50);

    public override Size MaxWindowSize => new(Width, 50);

    public override Coordinates WindowPosition { get; set; }

    public override Size WindowSize
    {
        get => new(Width, 50);
        set { }
    }

    public override string WindowTitle { get; set; } = "EpollTools";

    private static int Width
    {
        get
        {
            if (Console.IsOutputRedirected)
            {
                return DefaultWidth;
            }

            try
            {
                return Console.WindowWidth > 0 ? Console.WindowWidth : DefaultWidth;
            }
            catch (System.IO.IOException)
            {
                return DefaultWidth;
            }
        }
    }

    public override void FlushInputBuffer()
    {
    }

    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();

    public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException("Key input is not supported by this host.");

    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) => throw new NotSupportedException();

    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) => throw new NotSupportedException();

    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) => throw new NotSupportedException();
}
