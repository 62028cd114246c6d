using System;
using System.Collections.Generic;
using System.Linq;
using EpollTools.Core.Parsing;
using EpollTools.Core.Proc;

namespace EpollTools.Core.Interest;

/// <summary>The diagnoses of a single registration, as pure functions of what was read about it.</summary>
public static class RegistrationDiagnoses
{
    /// <summary>Every diagnosis that applies to <paramref name="row"/>, in the order of <see cref="DiagnosisKind"/>.</summary>
    public static Diagnosis[] Of(EpollInterest row)
    {
        // Most registrations have nothing to say: the list is made only when something is found.
        List<Diagnosis>? found = null;
        EpollEvents requested = row.Events & ~(EpollEvents.Err | EpollEvents.Hup);
        if ((row.Events & EpollEvents.OneShot) != 0 && (row.Events & ~EpollEventGroups.PrivateBits) == 0)
        {
            (found ??= new()).Add(new Diagnosis
            {
                Kind = DiagnosisKind.OneShotDisarmed,
                Summary = "one-shot fired, not re-armed",
                Explanation = $"The registration of fd {row.TargetFd} is EPOLLONESHOT and has fired: the kernel keeps only its flags ({row.Flags}), so no event on this file wakes the process again until it re-arms it with EPOLL_CTL_MOD. Normal while the event is being handled; a program that lost track of it waits forever.",
            });
        }

        if (row.ReadyEvents is EpollEvents ready)
        {
            EpollEvents unread = ready & requested & EpollEventGroups.Input;
            if ((row.Events & EpollEvents.ET) != 0 && unread != 0)
            {
                (found ??= new()).Add(new Diagnosis
                {
                    Kind = DiagnosisKind.EdgeTriggeredUnread,
                    Summary = $"edge-triggered, {EpollEventsText.ToShortString(unread)} ready now",
                    Explanation = $"fd {row.TargetFd} is registered EPOLLET and {EpollEventsText.ToShortString(unread)} is ready on it now. Edge-triggered epoll reports a change once: if the program stopped reading before read() returned EAGAIN, the data stays unread and only new data makes a new edge. Read until EAGAIN after each event.",
                });
            }

            if (row.TargetKind is TargetKind.Pipe or TargetKind.Fifo && (ready & EpollEvents.Hup) != 0)
            {
                (found ??= new()).Add(new Diagnosis
                {
                    Kind = DiagnosisKind.WritersGone,
                    Summary = "pipe's writers all closed (HUP)",
                    Explanation = $"Every write end of the pipe registered as fd {row.TargetFd} is closed: HUP is ready (the kernel reports it whether asked for or not) and reads return end of file once the data left is read. Nothing will be written to it again; the program should close its read end. Level-triggered, every wait returns at once; edge-triggered or one-shot, it was told once.",
                });
            }

            if (row.TargetKind is TargetKind.Pipe or TargetKind.Fifo && (ready & EpollEvents.Err) != 0)
            {
                (found ??= new()).Add(new Diagnosis
                {
                    Kind = DiagnosisKind.ReadersGone,
                    Summary = "pipe's readers all closed (ERR)",
                    Explanation = $"Every read end of the pipe registered as fd {row.TargetFd} is closed: ERR is ready, and a write fails with EPIPE (and raises SIGPIPE). The program should close its write end.",
                });
            }
        }

        if (row.State == RegistrationState.Stale)
        {
            string where = row.StillOpenAs is int other ? $"as fd {other} of this process" : "elsewhere (a dup, or another process after fork or fd passing)";
            (found ??= new()).Add(new Diagnosis
            {
                Kind = DiagnosisKind.ClosedFdRegistered,
                Summary = row.StaleReason is string reason && reason.Contains("closed", StringComparison.Ordinal)
                    ? $"fd {row.TargetFd} closed, still registered"
                    : $"fd {row.TargetFd} reused, old file registered",
                Explanation = $"The program closed fd {row.TargetFd} without EPOLL_CTL_DEL while the file stayed open {where}. epoll keys a registration by file and fd number and removes it only when the file's last reference closes, so it lives on and reports events with data {row.DataHex} for a number the program no longer owns (the \"events for a closed fd\" bug class). Remove it with EPOLL_CTL_DEL before close(), or close every copy.",
            });
        }

        return found?.ToArray() ?? Array.Empty<Diagnosis>();
    }
}

/// <summary>
/// Files registered in more than one epoll instance of those read in one call, by inode and device, with how many
/// of those registrations are EXCLUSIVE: the evidence for <see cref="DiagnosisKind.ExclusiveMix"/>. Built from the
/// fdinfo of every instance before any is expanded; keeps only the files met in several instances.
/// </summary>
public sealed class SharedTargets
{
    private readonly Dictionary<(ulong Ino, string Device), List<(string Instance, bool Exclusive)>> _mixed;

    private SharedTargets(Dictionary<(ulong, string), List<(string, bool)>> mixed) => _mixed = mixed;

    /// <summary>No file is shared: what a single instance gives.</summary>
    public static SharedTargets None { get; } = new(new());

    /// <summary>
    /// Indexes the registrations of <paramref name="instances"/> (one parsed fdinfo per instance, named as
    /// "pid:epfd"). Lines on the instance's own anonymous inode are left out: eventfds, timerfds and the like share
    /// that inode, so it does not name one file. Only a file registered EXCLUSIVE somewhere can be a mix, so the
    /// instances are gone through once for those files and, only if there are any, once more for their other
    /// registrations: <paramref name="instances"/> is enumerated a second time (a lazy sequence reads again) rather
    /// than every registration of the host being held at once.
    /// </summary>
    public static SharedTargets Build(IEnumerable<(string Instance, ParsedFdInfo Info)> instances)
    {
        var exclusive = new HashSet<(ulong, uint)>();
        foreach (var (_, info) in instances)
        {
            foreach (var line in info.EpollTargets)
            {
                if ((line.Events & EpollEvents.Exclusive) != 0 && FileOf(line, info) is { } file)
                {
                    exclusive.Add(file);
                }
            }
        }

        if (exclusive.Count == 0)
        {
            return None;
        }

        var registrations = new Dictionary<(ulong Ino, string Device), List<(string, bool)>>();
        foreach (var (instance, info) in instances)
        {
            foreach (var line in info.EpollTargets)
            {
                if (FileOf(line, info) is { } file && exclusive.Contains(file))
                {
                    var key = (file.Ino, DeviceNumbers.FormatKernel(file.Device));
                    if (!registrations.TryGetValue(key, out var list))
                    {
                        registrations[key] = list = new List<(string, bool)>(2);
                    }

                    list.Add((instance, (line.Events & EpollEvents.Exclusive) != 0));
                }
            }
        }

        var mixed = registrations.Where(entry => entry.Value.Any(r => !r.Item2)).ToDictionary(entry => entry.Key, entry => entry.Value);
        return new SharedTargets(mixed);
    }

    /// <summary>The file a line names by inode and device; null on the instance's shared anonymous inode, or on a kernel that prints neither.</summary>
    private static (ulong Ino, uint Device)? FileOf(EpollTargetLine line, ParsedFdInfo info)
        => line.Ino is ulong ino && ino != info.Ino && line.KernelDevice is uint device ? (ino, device) : null;

    /// <summary>The EXCLUSIVE-mix diagnosis of <paramref name="row"/>'s file, if it has one.</summary>
    public Diagnosis? For(EpollInterest row)
    {
        if (row.TargetInode is not ulong ino || row.TargetDevice is not string device || !_mixed.TryGetValue((ino, device), out var registrations))
        {
            return null;
        }

        var exclusive = registrations.Where(r => r.Exclusive).Select(r => r.Instance).ToList();
        var plain = registrations.Where(r => !r.Exclusive).Select(r => r.Instance).ToList();
        return new Diagnosis
        {
            Kind = DiagnosisKind.ExclusiveMix,
            Summary = $"{registrations.Count} instances, {exclusive.Count} EXCLUSIVE",
            Explanation = $"This file is registered in {registrations.Count} epoll instances: with EXCLUSIVE in {string.Join(", ", exclusive)}, without in {string.Join(", ", plain)}. Each event wakes every instance registered without EXCLUSIVE and one or more of those with it, so EXCLUSIVE does not spare the others the wake-up (a thundering herd on a shared listening socket). Register it EXCLUSIVE everywhere, or in one instance only.",
        };
    }
}
