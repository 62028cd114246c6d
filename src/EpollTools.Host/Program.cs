using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace EpollTools.Host;

/// <summary>
/// epolltools: where pwsh is not installed, runs a PowerShell command or script in the real engine
/// (System.Management.Automation) with the EpollTools module imported, printing through its format views.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: epolltools [-Module <path to EpollTools.psd1>] [-NoModule] -Command <text>
               epolltools [-Module <path>] [-NoModule] -File <script.ps1> [script arguments...]

        Runs the command or script in the PowerShell engine with EpollTools imported.
        The module is looked for as EpollTools.psd1 in the current folder and its parents.
        Ctrl+C stops the running pipeline. The exit code is 1 if an error reached the output or stopped the script.
        """;

    private const string SawErrorVariable = "__EpollToolsHostSawError";

    public static int Main(string[] args)
    {
        string? modulePath = null;
        bool importModule = true;
        string? command = null;
        string? file = null;
        var scriptArgs = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (file is not null)
            {
                scriptArgs.Add(arg);
            }
            else if (Is(arg, "-Module") && i + 1 < args.Length)
            {
                modulePath = args[++i];
            }
            else if (Is(arg, "-NoModule"))
            {
                importModule = false;
            }
            else if (Is(arg, "-Command") && i + 1 < args.Length)
            {
                command = string.Join(' ', args.Skip(i + 1));
                break;
            }
            else if (Is(arg, "-File") && i + 1 < args.Length)
            {
                file = Path.GetFullPath(args[++i]);
            }
            else
            {
                Console.Error.WriteLine(Is(arg, "-Help") || arg is "-h" or "--help" ? Usage : $"epolltools: unexpected argument '{arg}'.\n{Usage}");
                return Is(arg, "-Help") || arg is "-h" or "--help" ? 0 : 2;
            }
        }

        if (command is null && file is null)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (importModule)
        {
            modulePath ??= FindModule(Directory.GetCurrentDirectory());
            if (modulePath is null)
            {
                Console.Error.WriteLine("epolltools: EpollTools.psd1 not found in this folder or its parents; pass -Module <path>.");
                return 2;
            }
        }

        return Run(modulePath, command, file, scriptArgs);
    }

    private static int Run(string? modulePath, string? command, string? file, List<string> scriptArgs)
    {
        var host = new ConsoleHost();
        var state = InitialSessionState.CreateDefault2();
        if (modulePath is not null)
        {
            state.ImportPSModule(Path.GetFullPath(modulePath));
        }

        using var runspace = RunspaceFactory.CreateRunspace(host, state);
        runspace.Open();
        runspace.SessionStateProxy.Path.SetLocation(Directory.GetCurrentDirectory());
        using var shell = PowerShell.Create();
        shell.Runspace = runspace;
        if (file is not null)
        {
            shell.AddCommand(file);
            foreach (string arg in scriptArgs)
            {
                shell.AddArgument(arg);
            }
        }
        else
        {
            shell.AddScript(command!);
        }

        // Errors go through Out-Default with the output, so they print in order, in PowerShell's error view.
        shell.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
        shell.AddScript($"process {{ if ($_ -is [System.Management.Automation.ErrorRecord]) {{ $global:{SawErrorVariable} = $true }}; $_ }}");
        shell.AddCommand("Out-Default");
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            shell.BeginStop(null, null);
        };

        try
        {
            shell.Invoke();
        }
        catch (RuntimeException e)
        {
            host.UI.WriteErrorLine(e.ErrorRecord.ToString());
            return 1;
        }

        // Errors a script caught itself do not count; those that reached the output do.
        bool sawError = runspace.SessionStateProxy.GetVariable(SawErrorVariable) is true;
        return host.ExitCode ?? (sawError ? 1 : 0);
    }

    private static bool Is(string arg, string name) => string.Equals(arg, name, StringComparison.OrdinalIgnoreCase);

    private static string? FindModule(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "EpollTools.psd1");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
