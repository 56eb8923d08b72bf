using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AsyncStreams.Tests;

/// <summary>Helpers shared by the server and interop tests: timeouts, echo callbacks and raw socket clients.</summary>
internal static class ServerTestKit
{
    /// <summary>A token that fires after <paramref name="seconds"/> or when the test is cancelled.</summary>
    public static CancellationTokenSource Timeout(int seconds = 15)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        return cts;
    }

    private static readonly Lazy<Task> TlsWarmUp = new(WarmUpTlsCoreAsync);

    /// <summary>
    /// Runs one TLS connection through a server and a client of this library, once per process, so that later
    /// handshakes do not pay for compiling the TLS code and loading the native TLS library and the certificate.
    /// Tests whose short handshake timeout also bounds a handshake that must succeed call it first.
    /// </summary>
    public static Task WarmUpTlsAsync(CancellationToken cancellationToken) => TlsWarmUp.Value.WaitAsync(cancellationToken);

    private static async Task WarmUpTlsCoreAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = await StreamServer.StartAsync(
            EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() }, cts.Token);
        var (reader, writer) = await Streams.OpenConnectionAsync(
            "127.0.0.1", Port(server), ServerTestCertificate.ClientOptions("127.0.0.1"), cancellationToken: cts.Token);
        writer.Write("warm\n"u8);
        await reader.ReadLineAsync(cts.Token);
        await writer.DisposeAsync();
    }

    /// <summary>Echoes every line back until EOF, then closes.</summary>
    public static async Task EchoLinesAsync(StreamReader reader, StreamWriter writer)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync();
            if (line.Length == 0)
            {
                break;
            }

            writer.Write(line);
            await writer.DrainAsync();
        }

        writer.Close();
        await writer.WaitClosedAsync();
    }

    /// <summary>Gets the port every end point of <paramref name="server"/> shares.</summary>
    public static int Port(StreamServer server)
    {
        var ports = server.EndPoints.Cast<IPEndPoint>().Select(e => e.Port).Distinct().ToArray();
        Assert.Single(ports);
        return ports[0];
    }

    /// <summary>The loopback end point of the server's first listener.</summary>
    public static IPEndPoint Loopback(StreamServer server) => new(IPAddress.Loopback, Port(server));

    /// <summary>Closes the server at the end of a test without waiting on connections the test left open.</summary>
    public static IAsyncDisposable Guard(StreamServer server) => new ServerGuard(server);

    public static async Task<Socket> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var family = endPoint is UnixDomainSocketEndPoint ? AddressFamily.Unix : endPoint.AddressFamily;
        var protocol = family == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp;
        var socket = new Socket(family, SocketType.Stream, protocol);
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static async Task SendAsync(Socket socket, string text, CancellationToken cancellationToken) =>
        await SendAsync(socket, Encoding.UTF8.GetBytes(text), cancellationToken);

    public static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken);
            data = data[sent..];
        }
    }

    /// <summary>Receives exactly <paramref name="count"/> bytes; fails on EOF before them.</summary>
    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            Assert.True(n > 0, $"EOF after {filled} of {count} bytes");
            filled += n;
        }

        return buffer;
    }

    /// <summary>Receives until the peer's EOF and returns everything received.</summary>
    public static async Task<byte[]> ReceiveToEndAsync(Socket socket, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, n);
        }
    }

    /// <summary>Receives until EOF or a reset; returns how the connection ended. Bytes received are ignored.</summary>
    public static async Task<SocketError> ReceiveUntilClosedAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
            }

            return SocketError.Success;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode;
        }
    }

    private sealed class ServerGuard(StreamServer server) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            server.Close();
            server.AbortClients();
            await server.WaitClosedAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
