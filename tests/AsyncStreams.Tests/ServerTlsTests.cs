using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Tests;

public class ServerTlsTests
{
    private const int TlsHandshakeFailedEventId = 8;
    private const int ConnectionAcceptedEventId = 14;

    [Fact]
    public async Task StartAsync_Ssl_OurTlsClientEchoes()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(
            ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var (reader, writer) = await Streams.OpenConnectionAsync(
            "127.0.0.1", ServerTestKit.Port(server), ServerTestCertificate.ClientOptions(), cancellationToken: cts.Token);
        Assert.NotNull(writer.SslStream);
        writer.Write("secret\n"u8);
        Assert.Equal("secret\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task StartAsync_Ssl_PlaintextClientDroppedWhileOthersAreServed()
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();
        var calls = 0;
        var server = await StreamServer.StartAsync(
            (reader, writer) =>
            {
                Interlocked.Increment(ref calls);
                return ServerTestKit.EchoLinesAsync(reader, writer);
            },
            "127.0.0.1", 0, new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions(), LoggerFactory = log }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        // A TLS client holds its connection open while a plaintext one is dropped.
        var (reader, writer) = await Streams.OpenConnectionAsync(
            "127.0.0.1", ServerTestKit.Port(server), ServerTestCertificate.ClientOptions(), cancellationToken: cts.Token);
        using (var plain = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token))
        {
            await ServerTestKit.SendAsync(plain, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", cts.Token);
            var ended = await ServerTestKit.ReceiveUntilClosedAsync(plain, cts.Token);
            Assert.True(ended is SocketError.Success or SocketError.ConnectionReset, ended.ToString());
        }

        var entry = await log.WaitForAsync(e => e.EventId.Id == TlsHandshakeFailedEventId, cts.Token);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.True(entry.Exception is AuthenticationException or IOException, entry.Exception?.ToString());

        writer.Write("still here\n"u8);
        Assert.Equal("still here\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        await writer.DisposeAsync();
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task StartAsync_SslHandshakeTimeout_ClosesThatConnectionOnly()
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();

        // The timeout also bounds the handshake of the connection that must succeed: it is paid warm, and the
        // timeout is long enough for a handshake on a loaded machine.
        await ServerTestKit.WarmUpTlsAsync(cts.Token);
        var options = new StreamServerOptions
        {
            Ssl = ServerTestCertificate.ServerOptions(),
            SslHandshakeTimeout = TimeSpan.FromSeconds(1),
            LoggerFactory = log,
        };
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, options, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var (reader, writer) = await Streams.OpenConnectionAsync(
            "127.0.0.1", ServerTestKit.Port(server), ServerTestCertificate.ClientOptions(), cancellationToken: cts.Token);

        // A client that connects and never starts the handshake is closed once the timeout passes.
        using (var silent = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token))
        {
            var ended = await ServerTestKit.ReceiveUntilClosedAsync(silent, cts.Token);
            Assert.True(ended is SocketError.Success or SocketError.ConnectionReset, ended.ToString());
        }

        var entry = await log.WaitForAsync(e => e.EventId.Id == TlsHandshakeFailedEventId, cts.Token);
        Assert.IsType<TimeoutException>(entry.Exception);

        // The TLS connection made before it, idle meanwhile for longer than the timeout, is untouched.
        writer.Write("after timeout\n"u8);
        Assert.Equal("after timeout\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        await writer.DisposeAsync();
        Assert.True(server.IsServing);
    }

    [Fact]
    public async Task CloseClients_DuringTlsHandshake_ClosesTheConnectionWithoutCallback()
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();
        var calls = 0;
        var server = await StreamServer.StartAsync(
            (reader, writer) =>
            {
                Interlocked.Increment(ref calls);
                return Task.CompletedTask;
            },
            "127.0.0.1", 0, new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions(), LoggerFactory = log }, cts.Token);

        using var silent = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await log.WaitForAsync(e => e.EventId.Id == ConnectionAcceptedEventId, cts.Token);

        server.Close();
        var closed = server.WaitClosedAsync();
        Assert.False(closed.IsCompleted);
        server.CloseClients();

        var ended = await ServerTestKit.ReceiveUntilClosedAsync(silent, cts.Token);
        Assert.True(ended is SocketError.Success or SocketError.ConnectionReset, ended.ToString());
        await closed.WaitAsync(cts.Token);
        Assert.Equal(0, Volatile.Read(ref calls));
    }
}
