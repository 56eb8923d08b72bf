using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AsyncStreams.Tests;

/// <summary>Shared pieces of the client and transport tests: time bounds, a plain socket peer, byte helpers.</summary>
internal static class ConnectionTestKit
{
    /// <summary>The bound of every network test.</summary>
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(20);

    /// <summary>A token canceled when the test ends or after <paramref name="timeout"/> (default <see cref="TestTimeout"/>).</summary>
    public static CancellationTokenSource Bounded(TimeSpan? timeout = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? TestTimeout);
        return cts;
    }

    /// <summary>A listening socket on 127.0.0.1 port 0.</summary>
    public static Socket Listen(IPAddress? address = null, int backlog = 16)
    {
        var listener = new Socket((address ?? IPAddress.Loopback).AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        listener.Listen(backlog);
        return listener;
    }

    public static int Port(this Socket listener) => ((IPEndPoint)listener.LocalEndPoint!).Port;

    /// <summary>Opens a client connection to <paramref name="listener"/> and accepts it, returning both ends.</summary>
    public static async Task<(StreamReader Reader, StreamWriter Writer, Socket Peer)> ConnectAsync(
        Socket listener, ConnectionOptions? options, CancellationToken cancellationToken)
    {
        Task<Socket> accept = listener.AcceptAsync(cancellationToken).AsTask();
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", listener.Port(), options: options, cancellationToken: cancellationToken);
        Socket peer = await accept;
        return (reader, writer, peer);
    }

    /// <summary>Reads from <paramref name="socket"/> until <paramref name="count"/> bytes have arrived.</summary>
    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        int total = 0;
        while (total < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new EndOfStreamException($"EOF after {total} of {count} bytes.");
            }

            total += n;
        }

        return buffer;
    }

    /// <summary>Reads from <paramref name="socket"/> until EOF.</summary>
    public static async Task<byte[]> ReceiveToEndAsync(Socket socket, CancellationToken cancellationToken)
    {
        var all = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return all.ToArray();
            }

            all.Write(buffer, 0, n);
        }
    }

    /// <summary>Deterministic payload bytes.</summary>
    public static byte[] Payload(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
