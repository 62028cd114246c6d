using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using EpollTools.Core;
using EpollTools.Core.Metrics;
using EpollTools.Core.ProcFiles;

namespace EpollTools.Commands;

/// <summary>
/// Export-EpollMetric: what EpollTools finds on the host, in the Prometheus text format, for node_exporter's textfile
/// collector (written atomically: a temporary file beside the target, then renamed over it) or to the pipeline.
/// </summary>
[Cmdlet(VerbsData.Export, "EpollMetric", SupportsShouldProcess = true)]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportEpollMetricCommand : PSCmdlet
{
    /// <summary>
    /// The file to write (node_exporter reads *.prom files of its --collector.textfile.directory). Without it, the text
    /// is written to the pipeline.
    /// </summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Only these processes. Default: every process on the host.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Pid", "ProcessId")]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>With -Path: also writes the file written (a FileInfo).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private readonly System.Collections.Generic.List<int> _ids = new();

    protected override void ProcessRecord() => _ids.AddRange(Id ?? Array.Empty<int>());

    protected override void EndProcessing()
    {
        string? target = null;
        if (Path is not null && (!TryFinalTarget(GetUnresolvedProviderPathFromPSPath(Path), out target) || !CheckTarget(target)))
        {
            return;
        }

        string text;
        try
        {
            var pids = _ids.Count > 0 ? _ids.Distinct().ToList() : ProcFs.ListPids();
            text = PrometheusText.Write(EpollMetrics.Collect(pids, WriteVerbose));
        }
        catch (LinuxErrorException e)
        {
            ThrowTerminatingError(ErrorRecords.ForException(e, null)); // the fd limit: every further read would fail too
            return;
        }

        if (target is null)
        {
            WriteObject(text);
            return;
        }

        if (ShouldProcess(target, "Write the EpollTools metrics"))
        {
            WriteAtomically(target, text);
        }
    }

    /// <summary>
    /// Where a symbolic link at the path finally points (the file is replaced there, beside its own directory's
    /// temporary file, and the link stays a link); the path itself when it is no link; an error for a link that
    /// cannot be followed (a loop).
    /// </summary>
    private bool TryFinalTarget(string path, out string target)
    {
        var file = new FileInfo(path);
        try
        {
            target = file.LinkTarget is null ? path : file.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
            return true;
        }
        catch (IOException e)
        {
            WriteError(ErrorRecords.Usage("MetricLinkNotResolved", ErrorCategory.InvalidArgument, Path,
                $"Cannot follow the symbolic link '{path}': {e.Message}", "Point -Path at the file itself, or fix the link (ls -l shows where it points)."));
            target = path;
            return false;
        }
    }

    /// <summary>
    /// The target's folder exists, and the target is neither a folder nor a mount point (which no rename can replace);
    /// else an error that says which.
    /// </summary>
    private bool CheckTarget(string target)
    {
        if (Directory.Exists(target))
        {
            WriteError(ErrorRecords.Usage("MetricPathIsDirectory", ErrorCategory.InvalidArgument, Path,
                $"'{target}' is a directory: -Path names the file to write.", $"Name a file in it, such as {System.IO.Path.Combine(target, "epolltools.prom")}."));
            return false;
        }

        string? folder = System.IO.Path.GetDirectoryName(target);
        if (folder is null || !Directory.Exists(folder))
        {
            WriteError(ErrorRecords.Usage("MetricDirectoryNotFound", ErrorCategory.ObjectNotFound, Path,
                $"The directory of '{target}' does not exist.", "Create it, or give node_exporter's --collector.textfile.directory."));
            return false;
        }

        if (FileIdentity.IsMountRoot(target) == true)
        {
            WriteError(ErrorRecords.Usage("MetricPathIsMountPoint", ErrorCategory.InvalidOperation, Path,
                $"'{target}' is a mount point (a file mounted over another): a rename cannot replace it, so it cannot be written atomically.",
                "Mount the directory that holds it instead, and write a file of its own there."));
            return false;
        }

        return true;
    }

    /// <summary>
    /// The text to a temporary file in the target's own directory (so that the rename stays on one filesystem), then
    /// renamed over the target: a reader sees the old file or the new one, never half of one. The temporary name does
    /// not end in .prom, so node_exporter never reads it.
    /// </summary>
    private void WriteAtomically(string target, string text)
    {
        string temporary = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(target)!, $".{System.IO.Path.GetFileName(target)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)))
            {
                writer.Write(text);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            WriteError(ErrorRecords.Usage("MetricFileNotWritten", e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError, Path,
                $"Cannot write '{target}': {e.Message}", "Check that this user may write to the directory (node_exporter only needs to read it)."));
            return;
        }

        if (PassThru)
        {
            WriteObject(new FileInfo(target));
        }
    }
}
