using System;
using System.Collections.Generic;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.ProcFiles;

namespace EpollTools;

/// <summary>What a cmdlet reads of a process, and so which ptrace access a refusal was about.</summary>
internal enum ProcessRead
{
    /// <summary>/proc/&lt;pid&gt;/fd and fdinfo: ptrace read access.</summary>
    Fds,

    /// <summary>/proc/&lt;pid&gt;/task/*/syscall and the process's memory: ptrace attach access.</summary>
    Threads,
}

/// <summary>
/// Turns -Id / -Name / -All into pids, and /proc failures of one process into the right non-terminating error:
/// a process named explicitly that is gone or unreadable is an error; under -All or -Name it is skipped.
/// </summary>
internal static class ProcessSelection
{
    public static List<int> ByName(PSCmdlet cmdlet, IEnumerable<string> names)
    {
        var pids = new List<int>();
        var all = ProcFs.ListPids();
        var comms = new Dictionary<int, string?>();
        foreach (string name in names)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            try
            {
                pattern.IsMatch(string.Empty); // the pattern is parsed on first use: a bad one fails here, once
            }
            catch (WildcardPatternException e)
            {
                cmdlet.WriteError(ErrorRecords.InvalidNamePattern(name, e));
                continue;
            }

            bool found = false;
            foreach (int pid in all)
            {
                if (!comms.TryGetValue(pid, out var comm))
                {
                    comm = ProcFs.ReadComm(pid);
                    comms[pid] = comm;
                }

                if (comm is not null && pattern.IsMatch(comm))
                {
                    found = true;
                    if (!pids.Contains(pid))
                    {
                        pids.Add(pid);
                    }
                }
            }

            if (!found && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                cmdlet.WriteError(ErrorRecords.Usage("NoProcessFoundForGivenName", ErrorCategory.ObjectNotFound, name,
                    $"No process is named '{name}'.", "Names are matched against /proc/<pid>/comm, which the kernel cuts to 15 characters; try a wildcard such as 'name*'."));
            }
        }

        pids.Sort();
        return pids;
    }

    /// <summary>
    /// The warning for processes skipped because their fds could not be read (under -All or -Name): which ones, and
    /// why, with advice that fits who is asking: as root, a refusal comes from a user namespace or a security module,
    /// and running as root again would not help.
    /// </summary>
    public static string UnreadableWarning(IReadOnlyList<int> pids, ProcessRead read = ProcessRead.Fds)
    {
        string path = read == ProcessRead.Threads ? "/proc/<pid>/task/*/syscall" : "/proc/<pid>/fd";
        string subject = read == ProcessRead.Threads ? "threads" : "fds";
        const int Shown = 5;
        var named = new List<string>();
        for (int i = 0; i < pids.Count && i < Shown; i++)
        {
            named.Add($"{pids[i]} ({ProcFs.ReadComm(pids[i]) ?? "exited since"})");
        }

        string list = string.Join(", ", named) + (pids.Count > Shown ? $" and {pids.Count - Shown} more" : string.Empty);
        string count = pids.Count == 1 ? "1 process" : $"{pids.Count} processes";
        string why = ThisProcess.IsRoot
            ? $"reading their {path} was refused even to root: they run in a user namespace this one does not own, or a security module (Yama's kernel.yama.ptrace_scope = 3, AppArmor, SELinux) denies {Access(read)} to them"
            : $"reading another user's {subject} needs {Access(read)}: run as root or with CAP_SYS_PTRACE";
        return $"{count} could not be read: {list}. Why: {why}. -Verbose names each as it is skipped.";
    }

    /// <summary>Reports why one process could not be read: an error when it was named explicitly, else a verbose line.</summary>
    public static void ReportFailure(PSCmdlet cmdlet, Exception exception, int pid, bool explicitlyNamed, ProcessRead read = ProcessRead.Fds)
    {
        if (!explicitlyNamed)
        {
            cmdlet.WriteVerbose($"Process {pid} skipped: {exception.Message}");
            return;
        }

        cmdlet.WriteError(exception switch
        {
            ProcessGoneException => ErrorRecords.Usage("NoProcessFoundForGivenId", ErrorCategory.ObjectNotFound, pid,
                $"No process with id {pid} exists (it may have exited).", "List processes with ps, or pass a live process id."),
            ProcessAccessDeniedException => ErrorRecords.Usage("ProcessAccessDenied", ErrorCategory.PermissionDenied, pid,
                read == ProcessRead.Threads
                    ? $"Cannot read process {pid} ({ProcFs.ReadComm(pid) ?? "?"}): reading its threads' system calls (/proc/{pid}/task/*/syscall) needs {Access(read)} to it."
                    : $"Cannot read the fds of process {pid} ({ProcFs.ReadComm(pid) ?? "?"}): reading /proc/{pid}/fdinfo needs {Access(read)} to it.",
                ThisProcess.IsRoot
                    ? $"This is root already: the process runs in a user namespace this one does not own, or a security module (Yama's kernel.yama.ptrace_scope = 3, AppArmor, SELinux) denies ptrace access to it. Run the command inside its namespace (nsenter -t {pid} -U -m -p), or look at the module's policy."
                    : "Run as the same user as the process, as root, or with CAP_SYS_PTRACE (and check kernel.yama.ptrace_scope)."),
            _ => ErrorRecords.ForException(exception, pid),
        });
    }

    private static string Access(ProcessRead read) => read == ProcessRead.Threads ? "ptrace attach access" : "ptrace read access";
}
