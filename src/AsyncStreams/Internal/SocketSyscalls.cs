using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AsyncStreams.Internal;

/// <summary>
/// Non-blocking recv and send straight from libc, for sockets registered with an <see cref="EventLoop"/> (Linux).
/// The per-call MSG_DONTWAIT flag makes them non-blocking without switching the socket itself to non-blocking mode,
/// which in .NET would create the runtime's per-socket async state (about 220 bytes) that an event-loop connection
/// otherwise never needs. The socket handle is marshalled as a <see cref="SafeHandle"/>, so a concurrent close
/// cannot pull the descriptor away during a call: the call then throws <see cref="ObjectDisposedException"/>.
/// <para>
/// The calls go through libc's <c>syscall</c> rather than its <c>recv</c> and <c>send</c>: those two are thread
/// cancellation points, and in a multi-threaded process (every .NET process) glibc switches the calling thread's
/// cancellation state around each of them, two atomic updates per call that nothing here needs (the runtime never
/// cancels threads). The system call and its errno are the same.
/// </para>
/// </summary>
internal static partial class SocketSyscalls
{
    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;

    // The system call numbers of sendto and recvfrom (send and recv are these with no address): x86-64's own table,
    // and the generic table ARM64 uses. The event loop, the only user of this class, runs on these two only.
    private static readonly nint SendToNumber = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 44 : 206;
    private static readonly nint ReceiveFromNumber = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 45 : 207;

    /// <summary>Receives into <paramref name="buffer"/> without waiting.</summary>
    /// <returns>The bytes received (0 at the peer's end), or 0 with <paramref name="error"/> set.</returns>
    internal static unsafe int Receive(SafeSocketHandle socket, Span<byte> buffer, out SocketError error)
    {
        fixed (byte* data = buffer)
        {
            nint received;
            do
            {
                received = Syscall(ReceiveFromNumber, socket, data, buffer.Length, MsgDontWait, 0, 0);
            }
            while (Interrupted(received, out error));

            return (int)Math.Max(received, 0);
        }
    }

    /// <summary>Sends what the kernel takes of <paramref name="buffer"/> without waiting (no SIGPIPE on a closed peer).</summary>
    /// <returns>The bytes sent, or 0 with <paramref name="error"/> set (<see cref="SocketError.WouldBlock"/> when the kernel's buffer is full).</returns>
    internal static unsafe int Send(SafeSocketHandle socket, ReadOnlySpan<byte> buffer, out SocketError error)
    {
        fixed (byte* data = buffer)
        {
            nint sent;
            do
            {
                sent = Syscall(SendToNumber, socket, data, buffer.Length, MsgDontWait | MsgNoSignal, 0, 0);
            }
            while (Interrupted(sent, out error));

            return (int)Math.Max(sent, 0);
        }
    }

    // Sorts out a call's result: success, a failure (error set), or EINTR, a signal that came during the call
    // (the runtime uses signals to suspend threads), in which case the call is simply made again.
    private static bool Interrupted(nint result, out SocketError error)
    {
        if (result >= 0)
        {
            error = SocketError.Success;
            return false;
        }

        int errno = Marshal.GetLastPInvokeError();
        error = Errno.ToSocketError(errno);
        return errno == Errno.Interrupted;
    }

    // long syscall(long number, ...): on Linux x86-64 and ARM64 variadic integer arguments are passed as fixed ones,
    // so declaring the number and all six arguments defines every one libc passes on (on x86-64 the last goes on the
    // stack, where libc's syscall reads it; on ARM64 all seven travel in registers).
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial nint Syscall(
        nint number, SafeSocketHandle socket, byte* buffer, nint length, nint flags, nint address, nint addressLength);

    /// <summary>The Linux errno values a connected stream socket's recv or send can report, as the runtime maps them.</summary>
    private static class Errno
    {
        internal const int Interrupted = 4;

        internal static SocketError ToSocketError(int errno) => errno switch
        {
            11 => SocketError.WouldBlock,             // EAGAIN / EWOULDBLOCK
            104 => SocketError.ConnectionReset,       // ECONNRESET
            32 => SocketError.Shutdown,               // EPIPE: sending after shutdown or the peer's reset
            107 => SocketError.NotConnected,          // ENOTCONN
            110 => SocketError.TimedOut,              // ETIMEDOUT
            103 => SocketError.ConnectionAborted,     // ECONNABORTED
            113 => SocketError.HostUnreachable,       // EHOSTUNREACH
            101 => SocketError.NetworkUnreachable,    // ENETUNREACH
            100 => SocketError.NetworkDown,           // ENETDOWN
            105 or 12 => SocketError.NoBufferSpaceAvailable, // ENOBUFS, ENOMEM
            9 => SocketError.OperationAborted,        // EBADF: closed underneath (the handle's count prevents it)
            _ => SocketError.SocketError,
        };
    }
}
