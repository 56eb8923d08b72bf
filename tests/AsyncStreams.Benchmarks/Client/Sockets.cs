using System.Net;
using System.Net.Sockets;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>Blocking socket helpers of the load client.</summary>
internal static class Sockets
{
    /// <summary>Connects to a loopback end point with TCP_NODELAY, bounded by <paramref name="timeout"/>.</summary>
    public static Socket Connect(IPEndPoint endPoint, TimeSpan timeout)
    {
        if (!IPAddress.IsLoopback(endPoint.Address))
        {
            throw new ArgumentException("Benchmarks only connect to loopback addresses.", nameof(endPoint));
        }

        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            socket.ConnectAsync(endPoint, cts.Token).AsTask().GetAwaiter().GetResult();
            socket.SendTimeout = (int)timeout.TotalMilliseconds;
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data, SocketFlags.None)..];
        }
    }

    public static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var n = socket.Receive(buffer, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException("The server closed the connection before the echo was complete.");
            }

            buffer = buffer[n..];
        }
    }

    /// <summary>Sends one message and checks that exactly the same bytes come back.</summary>
    public static void VerifyEcho(Socket socket, byte[] message)
    {
        var reply = new byte[message.Length];
        SendAll(socket, message);
        ReceiveExactly(socket, reply);
        if (!reply.AsSpan().SequenceEqual(message))
        {
            throw new InvalidDataException("The server's echo differs from the message sent.");
        }
    }

    /// <summary>Closes with a reset (linger 0), so that thousands of closed connections leave no TIME_WAIT.</summary>
    public static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing to linger on.
        }

        socket.Dispose();
    }
}
