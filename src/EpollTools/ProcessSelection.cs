using System;
using System.Collections.Generic;
using System.Management.Automation;
using EpollTools.Core.Proc;

namespace EpollTools;

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

    /// <summary>Reports why one process could not be read: an error when it was named explicitly, else a verbose line.</summary>
    public static void ReportFailure(PSCmdlet cmdlet, Exception exception, int pid, bool explicitlyNamed)
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
                $"Cannot read the fds of process {pid} ({ProcFs.ReadComm(pid) ?? "?"}): reading /proc/{pid}/fdinfo needs ptrace read access to it.",
                "Run as the same user as the process, as root, or with CAP_SYS_PTRACE (and check kernel.yama.ptrace_scope)."),
            _ => ErrorRecords.ForException(exception, pid),
        });
    }
}
