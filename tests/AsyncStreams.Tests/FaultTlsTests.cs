using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace AsyncStreams.Tests;

/// <summary>
/// TLS going wrong: an untrusted certificate, a name that does not match, plaintext sent to a TLS port, handshakes
/// that never finish, and peers silent at close. Each fails that connection only, within its bound.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultTlsTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(400);

    // A server's handshake timeout bounds the well-behaved handshake that follows the silent one too, so it is long
    // enough for a (warm, see LeakGuard) handshake on a loaded machine.
    private static readonly TimeSpan ServerHandshakeTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Handshake_UntrustedCertificate_ClientFailsAndServerGoesOn()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        await using (var server = await StartTlsServerAsync(() => { }, null, cts.Token))
        {
            var port = ServerTestKit.Port(server);

            // ssl: true trusts the system's roots only; the test certificate is self-signed. (The client judges the
            // certificate once the TLS exchange itself is complete, so the server may see a connection that the client
            // then drops; that one ends like any other.)
            await Assert.ThrowsAsync<AuthenticationException>(() => Streams.OpenConnectionAsync("localhost", port, ssl: true, cancellationToken: cts.Token));

            await AssertTlsEchoAsync(port, ServerTestCertificate.ClientOptions(), cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Handshake_HostNameMismatch_AuthenticationExceptionWhileTheRightNamePasses()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        await using (var server = await StartTlsServerAsync(() => { }, null, cts.Token))
        {
            var port = ServerTestKit.Port(server);

            // The chain is trusted (the certificate is its own root here), so only the name decides.
            await Assert.ThrowsAsync<AuthenticationException>(
                () => Streams.OpenConnectionAsync("127.0.0.1", port, TrustingOptions("wrong.example"), cancellationToken: cts.Token));
            await AssertTlsEchoAsync(port, TrustingOptions("localhost"), cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task PlaintextIntoTlsPort_ThatConnectionClosesWithoutCallbackAndServerGoesOn()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var callbacks = 0;
        await using (var server = await StartTlsServerAsync(() => Interlocked.Increment(ref callbacks), null, cts.Token))
        {
            using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
            {
                await ServerTestKit.SendAsync(peer, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", cts.Token);
                var how = await ServerTestKit.ReceiveUntilClosedAsync(peer, cts.Token);
                Assert.True(how is SocketError.Success or SocketError.ConnectionReset, how.ToString());
            }

            Assert.Equal(0, Volatile.Read(ref callbacks));
            await AssertTlsEchoAsync(ServerTestKit.Port(server), ServerTestCertificate.ClientOptions(), cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Handshake_SilentClient_ServerClosesItAfterSslHandshakeTimeout()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var callbacks = 0;
        var options = new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions(), SslHandshakeTimeout = ServerHandshakeTimeout };
        await using (var server = await StartTlsServerAsync(() => Interlocked.Increment(ref callbacks), options, cts.Token))
        {
            using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
            {
                var connected = Stopwatch.StartNew();
                var how = await ServerTestKit.ReceiveUntilClosedAsync(peer, cts.Token);
                Assert.True(how is SocketError.Success or SocketError.ConnectionReset, how.ToString());
                Assert.True(connected.Elapsed >= ServerHandshakeTimeout - TimeSpan.FromMilliseconds(20), $"closed after {connected.Elapsed}");
            }

            Assert.Equal(0, Volatile.Read(ref callbacks));
            await AssertTlsEchoAsync(ServerTestKit.Port(server), ServerTestCertificate.ClientOptions(), cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Handshake_SilentServer_ClientThrowsTimeoutExceptionAfterSslHandshakeTimeout()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using (var listener = ConnectionTestKit.Listen())
        {
            var accept = listener.AcceptAsync(cts.Token).AsTask();
            var started = Stopwatch.StartNew();
            await Assert.ThrowsAsync<TimeoutException>(() => Streams.OpenConnectionAsync(
                "127.0.0.1", listener.Port(), ServerTestCertificate.ClientOptions("127.0.0.1"),
                new ConnectionOptions { SslHandshakeTimeout = Short }, cts.Token));
            Assert.True(started.Elapsed >= Short - TimeSpan.FromMilliseconds(20), $"gave up after {started.Elapsed}");

            // The client closed its socket: the silent server sees the end.
            using var silent = await accept;
            Assert.Equal(SocketError.Success, await ServerTestKit.ReceiveUntilClosedAsync(silent, cts.Token));
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Close_ServerSilentAtClose_ClientWaitClosedBoundedBySslShutdownTimeout()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using (var listener = ConnectionTestKit.Listen())
        {
            // The peer: .NET's own SslStream, which completes the handshake and then neither reads nor closes.
            var accepting = AcceptSilentTlsPeerAsync(listener, cts.Token);
            var (_, writer) = await Streams.OpenConnectionAsync(
                "127.0.0.1", listener.Port(), ServerTestCertificate.ClientOptions("127.0.0.1"),
                new ConnectionOptions { SslShutdownTimeout = Short }, cts.Token);
            await using var peer = await accepting;

            var closing = Stopwatch.StartNew();
            writer.Close();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);

            // It waited for the peer's close_notify, which never came, for the whole timeout and no longer.
            Assert.True(closing.Elapsed >= Short - TimeSpan.FromMilliseconds(20), $"closed after {closing.Elapsed}");
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Close_ClientSilentAtClose_ServerWaitClosedBoundedBySslShutdownTimeout()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var options = new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions(), SslShutdownTimeout = Short };
        var served = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StartTlsServerAsync(() => served.TrySetResult(), options, cts.Token);
        using (var socket = await RawPeer.ConnectAsync(server, cts.Token))
        {
            // The peer completes the handshake, then neither reads nor closes.
            await using var peer = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await peer.AuthenticateAsClientAsync(ServerTestCertificate.ClientOptions(), cts.Token);
            await served.Task.WaitAsync(cts.Token);

            var closing = Stopwatch.StartNew();
            server.Close();
            server.CloseClients();
            await server.WaitClosedAsync().WaitAsync(cts.Token);
            Assert.True(closing.Elapsed >= Short - TimeSpan.FromMilliseconds(20), $"closed after {closing.Elapsed}");
        }

        await guard.AssertCleanAsync();
    }

    /// <summary>A TLS server whose callback counts itself and then echoes lines.</summary>
    private static Task<StreamServer> StartTlsServerAsync(Action onCallback, StreamServerOptions? options, CancellationToken cancellationToken) =>
        StreamServer.StartAsync(
            async (reader, writer) =>
            {
                onCallback();
                await ServerTestKit.EchoLinesAsync(reader, writer);
            },
            "127.0.0.1", 0, options ?? new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() }, cancellationToken);

    private static async Task AssertTlsEchoAsync(int port, SslClientAuthenticationOptions ssl, CancellationToken cancellationToken)
    {
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", port, ssl, cancellationToken: cancellationToken);
        await using (writer)
        {
            writer.Write("over tls\n"u8);
            Assert.Equal("over tls\n"u8.ToArray(), await reader.ReadLineAsync(cancellationToken));
        }
    }

    /// <summary>Client options that trust the test certificate as a root, with the platform's own name check.</summary>
    private static SslClientAuthenticationOptions TrustingOptions(string targetHost)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(ServerTestCertificate.Certificate);
        return new SslClientAuthenticationOptions { TargetHost = targetHost, CertificateChainPolicy = policy };
    }

    private static async Task<SslStream> AcceptSilentTlsPeerAsync(Socket listener, CancellationToken cancellationToken)
    {
        var socket = await listener.AcceptAsync(cancellationToken);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
        await ssl.AuthenticateAsServerAsync(ServerTestCertificate.ServerOptions(), cancellationToken);
        return ssl;
    }
}
