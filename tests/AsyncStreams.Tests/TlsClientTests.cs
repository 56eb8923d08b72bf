using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class TlsClientTests
{
    private static TlsTestCertificates Certs => TlsTestCertificates.Shared;

    /// <summary>Accepts one connection and runs a TLS server (SslStream) on it that echoes lines until EOF.</summary>
    private static async Task TlsEchoPeerAsync(Socket listener, CancellationToken cancellationToken)
    {
        using Socket socket = await listener.AcceptAsync(cancellationToken);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            await ssl.AuthenticateAsServerAsync(Certs.ServerOptions(), cancellationToken);
            var buffer = new byte[4096];
            while (true)
            {
                int n = await ssl.ReadAsync(buffer, cancellationToken);
                if (n == 0)
                {
                    await ssl.ShutdownAsync();
                    return;
                }

                await ssl.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            // The client rejected the handshake or went away; that is what some tests want.
        }
        finally
        {
            try
            {
                ssl.Dispose();
            }
            catch (IOException)
            {
                // Disposing may try to send an alert to a client that has gone.
            }
        }
    }

    [Fact]
    public async Task OpenConnectionAsync_SslTrueWithUntrustedCertificate_ThrowsAuthenticationException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        Task peer = TlsEchoPeerAsync(listener, cts.Token);
        await Assert.ThrowsAsync<AuthenticationException>(
            () => Streams.OpenConnectionAsync("localhost", listener.Port(), ssl: true, cancellationToken: cts.Token));
        await peer;
    }

    [Fact]
    public async Task OpenConnectionAsync_CallbackTrustsCertificate_RoundTripsOverTls()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        Task peer = TlsEchoPeerAsync(listener, cts.Token);
        string expected = Certs.Server.Thumbprint;
        var ssl = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && new X509Certificate2(certificate).Thumbprint == expected,
        };

        var (reader, writer) = await Streams.OpenConnectionAsync("localhost", listener.Port(), ssl, cancellationToken: cts.Token);
        Assert.Null(ssl.TargetHost);
        Assert.NotNull(writer.SslStream);
        Assert.Equal("localhost", writer.SslStream!.TargetHostName);
        for (int i = 0; i < 20; i++)
        {
            byte[] line = Ascii($"secret {i}\n");
            writer.Write(line);
            Assert.Equal(line, await reader.ReadLineAsync(cts.Token));
        }

        byte[] big = Payload(200 * 1024);
        writer.Write(big);
        Assert.Equal(big, await reader.ReadExactlyAsync(big.Length, cts.Token));

        Assert.False(writer.CanWriteEof);
        Assert.Throws<NotSupportedException>(writer.WriteEof);
        await writer.DisposeAsync();
        Assert.True(reader.AtEof || (await reader.ReadAsync(-1, cts.Token)).Length == 0);
        await peer;
    }

    [Fact]
    public async Task OpenConnectionAsync_TrustedChainButNameMismatch_ThrowsAuthenticationException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();

        // The certificate names "localhost"; "127.0.0.1" is not among its names.
        Task peer = TlsEchoPeerAsync(listener, cts.Token);
        await Assert.ThrowsAsync<AuthenticationException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", listener.Port(), Certs.TrustingClientOptions(), cancellationToken: cts.Token));
        await peer;

        // The same trust with the right name connects, so the name is what failed above.
        Task peer2 = TlsEchoPeerAsync(listener, cts.Token);
        var (_, writer) = await Streams.OpenConnectionAsync("localhost", listener.Port(), Certs.TrustingClientOptions(), cancellationToken: cts.Token);
        await writer.DisposeAsync();
        await peer2;
    }

    [Fact]
    public async Task OpenConnectionAsync_PeerNeverAnswersHandshake_ThrowsTimeoutException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        Task<Socket> accept = listener.AcceptAsync(cts.Token).AsTask();
        var options = new ConnectionOptions { SslHandshakeTimeout = TimeSpan.FromMilliseconds(300) };
        await Assert.ThrowsAsync<TimeoutException>(
            () => Streams.OpenConnectionAsync("localhost", listener.Port(), ssl: true, options, cts.Token));

        // The client closed its socket: the silent peer sees EOF after the ClientHello.
        using Socket silent = await accept;
        byte[] hello = await ReceiveToEndAsync(silent, cts.Token);
        Assert.Equal(0x16, hello[0]);
    }

    [Fact]
    public async Task OpenConnectionAsync_CanceledDuringHandshake_ThrowsOperationCanceledException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        Task<Socket> accept = listener.AcceptAsync(cts.Token).AsTask();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        Task open = Streams.OpenConnectionAsync("localhost", listener.Port(), ssl: true, cancellationToken: cancel.Token);
        using Socket silent = await accept;
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => open);
    }

    [Fact]
    public async Task GetExtraInfo_TlsConnection_ReturnsAsyncioKeys()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        Task peer = TlsEchoPeerAsync(listener, cts.Token);
        SslClientAuthenticationOptions ssl = Certs.TrustingClientOptions("localhost");
        var (_, writer) = await Streams.OpenConnectionAsync("127.0.0.1", listener.Port(), ssl, cancellationToken: cts.Token);

        Assert.Same(writer.SslStream, writer.GetExtraInfo("ssl_object"));
        Assert.Equal(Certs.Server.Thumbprint, new X509Certificate2(Assert.IsAssignableFrom<X509Certificate>(writer.GetExtraInfo("peercert"))).Thumbprint);
        Assert.Equal(writer.SslStream!.NegotiatedCipherSuite, Assert.IsType<TlsCipherSuite>(writer.GetExtraInfo("cipher")));
        Assert.Same(ssl, writer.GetExtraInfo("sslcontext"));
        Assert.Equal(writer.RemoteEndPoint, writer.GetExtraInfo("peername"));
        Assert.Equal("fallback", writer.GetExtraInfo("no such key", "fallback"));
        await writer.DisposeAsync();
        await peer;
    }
}
