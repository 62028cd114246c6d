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
            var request = new WaitRequest
            {
                Processes = SelectedPids(_ids),
                NamedExplicitly = ExplicitIds,
                IncludeAllThreads = IncludeAllThreads,
                IncludeKernelStack = IncludeKernelStack,
                SettleMilliseconds = SettleInterval,
            };
            foreach (var result in new MultiplexerWaitQuery().Run(request, StopToken))
            {
                Write(result);
            }
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null)); // the fd limit: every further read would fail too
        }
    }

    private void Write(WaitResult result)
    {
        switch (result)
        {
            case WaitResult.Wait(var wait):
                WriteObject(wait);
                break;
            case WaitResult.Refused(int pid, var reason):
                ProcessSelection.ReportFailure(this, reason, pid, ExplicitIds, ProcessRead.Threads);
                break;
            case WaitResult.Skipped(var pids):
                WriteWarning(ProcessSelection.UnreadableWarning(pids, ProcessRead.Threads));
                break;
            case WaitResult.NoWait(int pid):
                string name = ProcFs.ReadComm(pid) ?? "?";
                WriteWarning(ProcessCondition.WhyNoWait(pid, name) ?? $"No thread of process {pid} ({name}) is in epoll_wait, poll or select now: " +
                    "they run, or block elsewhere (a read, a lock, a sleep). -IncludeAllThreads lists every thread with its system call.");
                break;
        }
    }
}
