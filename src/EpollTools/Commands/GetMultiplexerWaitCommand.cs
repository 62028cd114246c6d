using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Interest;
using EpollTools.Core.Proc;
using EpollTools.Core.ProcFiles;
using EpollTools.Core.Waits;

namespace EpollTools.Commands;

/// <summary>
/// Get-MultiplexerWait: the threads blocked in epoll_wait, epoll_pwait, epoll_pwait2, poll, ppoll, select or pselect6,
/// with their decoded arguments, from /proc/&lt;pid&gt;/task/&lt;tid&gt;/syscall and the process's memory.
/// </summary>
[Cmdlet(VerbsCommon.Get, "MultiplexerWait", DefaultParameterSetName = IdSet)]
[OutputType(typeof(MultiplexerWait))]
public sealed class GetMultiplexerWaitCommand : ProcessSelectionCommandBase
{
    private readonly List<int> _ids = new();

    /// <summary>Lists every thread, running or in any system call, not only those in a multiplexing wait.</summary>
    [Parameter]
    public SwitchParameter IncludeAllThreads { get; set; }

    /// <summary>
    /// Milliseconds to wait before confirming the diagnoses with a second read (0: one read, diagnoses as seen).
    /// </summary>
    [Parameter]
    [ValidateRange(0, 60000)]
    public int SettleInterval { get; set; } = DiagnosisConfirmation.DefaultSettleMilliseconds;

    /// <summary>Reads each listed thread's kernel stack (/proc/&lt;pid&gt;/task/&lt;tid&gt;/stack, root only) into KernelStack.</summary>
    [Parameter]
    public SwitchParameter IncludeKernelStack { get; set; }

    protected override void ProcessRecord()
    {
        if (Id is not null)
        {
            _ids.AddRange(Id);
        }
    }

    protected override void EndProcessing()
    {
        if (NoProcessCameDownThePipeline(_ids.Count))
        {
            return;
        }

        try
        {
            var pids = SelectedPids(_ids);
            var scanner = new MultiplexerWaitScanner { IncludeKernelStack = IncludeKernelStack };
            var waits = new List<MultiplexerWait>();
            ForEachProcess(pids, pid => pid, pid => waits.AddRange(Read(scanner, pid, onlyProcessAsked: ExplicitIds && pids.Count == 1)), ProcessRead.Threads);

            // Whether several threads share an instance is known only once every selected process is read.
            MultiplexerWaitScanner.DiagnoseSharedInstances(waits);
            if (SettleInterval > 0 && waits.Any(w => w.Diagnoses.Count > 0))
            {
                if (StopToken.WaitHandle.WaitOne(SettleInterval))
                {
                    return; // Ctrl+C
                }

                ConfirmDiagnoses(waits);
            }

            WriteObject(waits, enumerateCollection: true);
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null)); // the fd limit: every further read would fail too
        }
    }

    /// <summary>Reads the processes with a diagnosed wait again and keeps what the second read confirms.</summary>
    private void ConfirmDiagnoses(List<MultiplexerWait> waits)
    {
        var scanner = new MultiplexerWaitScanner { IncludeKernelStack = IncludeKernelStack };
        var again = new List<MultiplexerWait>();
        foreach (int pid in waits.Where(w => w.Diagnoses.Count > 0).Select(w => w.ProcessId).Distinct())
        {
            try
            {
                again.AddRange(scanner.Scan(pid, IncludeAllThreads));
            }
            catch (ProcessUnreadableException)
            {
                // Gone since: its waits are confirmed by nothing.
            }
        }

        MultiplexerWaitScanner.DiagnoseSharedInstances(again);
        DiagnosisConfirmation.ConfirmWaits(waits, again);
    }

    private List<MultiplexerWait> Read(MultiplexerWaitScanner scanner, int pid, bool onlyProcessAsked)
    {
        var waits = scanner.Scan(pid, IncludeAllThreads);
        if (waits.Count == 0 && onlyProcessAsked)
        {
            string name = ProcFs.ReadComm(pid) ?? "?";
            WriteWarning(ProcessCondition.WhyNoWait(pid, name) ?? $"No thread of process {pid} ({name}) is in epoll_wait, poll or select now: " +
                "they run, or block elsewhere (a read, a lock, a sleep). -IncludeAllThreads lists every thread with its system call.");
        }

        return waits;
    }
}
