using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EpollTools.Core;

namespace EpollTools;

/// <summary>
/// An fd given to a cmdlet: a number, or an object that owns one. Keeps the owning object referenced so the fd
/// cannot be finalized away while the cmdlet uses its number.
/// </summary>
public sealed class FdArgument
{
    public FdArgument(int number, object? owner)
    {
        Number = number;
        Owner = owner;
    }

    public int Number { get; }

    public object? Owner { get; }

    /// <summary>The owning object was closed: its number may belong to another file by now, so it must not be used.</summary>
    public bool IsClosed => Owner switch
    {
        LinuxFd fd => fd.IsClosed,
        EpollInstance instance => instance.IsClosed,
        Socket socket => socket.SafeHandle.IsClosed,
        FileStream stream => stream.SafeFileHandle.IsClosed,
        SafeHandle handle => handle.IsClosed,
        _ => false,
    };

    /// <summary>What holds the fd open for a call (<see cref="FdHolds"/>): the module's object, or the handle a socket or stream owns; null for a number.</summary>
    public object? HeldBy => Owner switch
    {
        Socket socket => socket.SafeHandle,
        FileStream stream => stream.SafeFileHandle,
        _ => Owner,
    };

    public override string ToString() => Number.ToString();

    /// <summary>
    /// Converts what a user may pass as an fd. Accepted: integers, the module's fd objects and epoll instances,
    /// any SafeHandle, System.Net.Sockets.Socket, FileStream.
    /// </summary>
    public static FdArgument From(object? value)
    {
        object? item = value is PSObject ps ? ps.BaseObject : value;
        switch (item)
        {
            case null:
                throw new ArgumentTransformationMetadataException("An fd cannot be null.");
            case LinuxFd fd:
                return new FdArgument(fd.Fd, fd);
            case EpollInstance instance:
                return new FdArgument(instance.Fd, instance);
            case Pipe:
                throw new ArgumentTransformationMetadataException("A pipe has two fds: pass its .ReadEnd or its .WriteEnd.");
            case SocketPair:
                throw new ArgumentTransformationMetadataException("A socket pair has two fds: pass its .First or its .Second.");
            case Socket socket:
                return FromHandle(socket.SafeHandle, socket);
            case FileStream stream:
                return FromHandle(stream.SafeFileHandle, stream);
            case SafeHandle handle:
                return FromHandle(handle, handle);
            case string text when int.TryParse(text, out int parsed):
                return FromNumber(parsed);
            case string text:
                throw new ArgumentTransformationMetadataException($"'{text}' is not an fd number.");
            case ulong big when big > int.MaxValue:
                throw new ArgumentTransformationMetadataException($"{big} is not a valid fd number: fds are 0 to {int.MaxValue}.");
            case sbyte or byte or short or ushort or int or uint or long or ulong:
                return FromNumber(Convert.ToInt64(item));
            default:
                throw new ArgumentTransformationMetadataException(
                    $"Cannot use a {item.GetType().FullName} as an fd. Pass an fd number, an object from New-EventFd, New-Pipe, " +
                    "New-SocketPair, New-TimerFd or New-EpollInstance, a SafeHandle, a Socket or a FileStream.");
        }
    }

    private static FdArgument FromNumber(long number)
    {
        if (number < 0 || number > int.MaxValue)
        {
            throw new ArgumentTransformationMetadataException($"{number} is not a valid fd number: fds are 0 or more.");
        }

        return new FdArgument((int)number, null);
    }

    private static FdArgument FromHandle(SafeHandle handle, object owner)
    {
        // A closed handle is kept as given and refused when used, so one closed fd does not stop a whole batch.
        return new FdArgument((int)handle.DangerousGetHandle().ToInt64(), owner);
    }
}

/// <summary>Lets -Fd take numbers and fd-owning objects, singly or as an array.</summary>
public sealed class FdArgumentTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? input = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (input is FdArgument[] already)
        {
            return already;
        }

        if (NamesEpollEvents(input))
        {
            // "In", "IN|ET": an event mask, never an fd. Left for the type conversion to refuse, which PowerShell
            // takes as "not this parameter" while it tries a positional argument on each parameter set: in
            // $ep | Add-EpollFd $fd In, the second argument is then tried as -Events, not failed as -Fd.
            return inputData;
        }

        var result = new List<FdArgument>();
        if (input is IEnumerable sequence && input is not string)
        {
            foreach (var item in sequence)
            {
                result.Add(item is FdArgument fd ? fd : FdArgument.From(item));
            }
        }
        else
        {
            result.Add(FdArgument.From(input));
        }

        return result.ToArray();
    }

    private static bool NamesEpollEvents(object? input)
    {
        var items = input is object[] array ? array : new[] { input };
        return items.Length > 0 && Array.TrueForAll(items, item =>
            (item is PSObject p ? p.BaseObject : item) is string text && !int.TryParse(text, out _) && EpollEventsText.TryParse(text, out _));
    }
}

/// <summary>
/// Lets Wait-Poll's -Fd take what -Fd takes elsewhere, and negative numbers too: poll(2) skips an entry whose fd is
/// negative (the usual way to switch one off), so it is an entry, not an error.
/// </summary>
public sealed class PollFdTransformationAttribute : ArgumentTransformationAttribute
{
    private static readonly FdArgumentTransformationAttribute Others = new();

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? input = inputData is PSObject ps ? ps.BaseObject : inputData;
        var items = input is IEnumerable sequence && input is not string ? sequence.Cast<object?>().ToList() : new List<object?> { input };
        var result = new List<FdArgument>();
        foreach (var item in items)
        {
            result.Add(NegativeNumber(item is PSObject wrapped ? wrapped.BaseObject : item) is int negative
                ? new FdArgument(negative, null)
                : ((FdArgument[])Others.Transform(engineIntrinsics, item!))[0]);
        }

        return result.ToArray();
    }

    /// <summary>A negative number, given as a number or as text (a command line passes "-1" either way).</summary>
    private static int? NegativeNumber(object? value) => value switch
    {
        sbyte or short or int or long when Convert.ToInt64(value) < 0 => (int)Math.Max(Convert.ToInt64(value), int.MinValue),
        string text when int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int parsed) && parsed < 0 => parsed,
        _ => null,
    };
}

/// <summary>
/// Lets -Events take the mask as the module prints it ("IN|ET") or as C writes it ("EPOLLIN|EPOLLET"), besides the
/// enum's own forms (In, ET as a list, or a number).
/// </summary>
public sealed class EpollEventsTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? input = inputData is PSObject ps ? ps.BaseObject : inputData;
        var texts = input switch
        {
            string text => new[] { text },
            object[] items when Array.TrueForAll(items, i => (i is PSObject p ? p.BaseObject : i) is string) =>
                Array.ConvertAll(items, i => (string)(i is PSObject p ? p.BaseObject : i)),
            _ => null,
        };
        if (texts is null)
        {
            return input!;
        }

        var events = EpollEvents.None;
        foreach (string text in texts)
        {
            try
            {
                events |= EpollEventsText.Parse(text);
            }
            catch (FormatException e)
            {
                throw new ArgumentTransformationMetadataException(e.Message, e);
            }
        }

        return events;
    }
}

/// <summary>Lets -Timeout take milliseconds (-1 forever, 0 at once) or a TimeSpan.</summary>
public sealed class TimeoutTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? input = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (input is TimeSpan span)
        {
            if (span == System.Threading.Timeout.InfiniteTimeSpan)
            {
                return -1;
            }

            if (span < TimeSpan.Zero || span.TotalMilliseconds > int.MaxValue)
            {
                throw new ArgumentTransformationMetadataException(
                    $"The timeout {span} is out of range: use 0 to {TimeSpan.FromMilliseconds(int.MaxValue)}, or -1 ms to wait forever.");
            }

            // Round up so that a sub-millisecond wait still waits rather than returning at once.
            return (int)Math.Ceiling(span.TotalMilliseconds);
        }

        return input!;
    }
}

/// <summary>
/// An fd number that may be absent: null passes (a piped object whose EpollFd is null, such as a poll wait from
/// Get-MultiplexerWait, asks for no epoll fd), a negative number does not. ValidateRange would refuse the null.
/// </summary>
public sealed class ValidateFdNumberOrNullAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (arguments is int fd && fd < 0)
        {
            throw new ValidationMetadataException($"{fd} is not an fd number: fds are 0 or more.");
        }
    }
}

/// <summary>
/// Lets the fd parameters of Read-Fd and Write-Fd take a whole pipe or socket pair: the end that fits the
/// direction is chosen (a pipe's read end for reading, its write end for writing; a socket pair's first socket).
/// </summary>
public sealed class PipeEndTransformationAttribute : ArgumentTransformationAttribute
{
    public PipeEndTransformationAttribute(bool forWriting) => ForWriting = forWriting;

    public bool ForWriting { get; }

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? input = inputData is PSObject ps ? ps.BaseObject : inputData;
        return input switch
        {
            Pipe pipe => ForWriting ? pipe.WriteEnd : pipe.ReadEnd,
            SocketPair pair => pair.First,
            _ => inputData,
        };
    }
}
