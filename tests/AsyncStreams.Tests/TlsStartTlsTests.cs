using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using AsyncStreams.Internal;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class TlsStartTlsTests
{
    private static TlsTestCertificates Certs => TlsTestCertificates.Shared;

    [Fact]
    public async Task StartTlsAsync_Client_UpgradesAndKeepsBufferedPlainBytes()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            // The peer sends two plain lines, then expects a handshake and echoes one TLS line back.
            Task server = Task.Run(async () =>
            {
                await peer.SendAsync(Ascii("plain 1\nplain 2\n"), SocketFlags.None, cts.Token);
                using var ssl = new SslStream(new NetworkStream(peer, ownsSocket: false));
                await ssl.AuthenticateAsServerAsync(Certs.ServerOptions(), cts.Token);
                var buffer = new byte[64];
                int n = await ssl.ReadAsync(buffer, cts.Token);
                await ssl.WriteAsync(buffer.AsMemory(0, n), cts.Token);
                await ssl.ShutdownAsync();
            }, cts.Token);

            Assert.Equal(Ascii("plain 1\n"), await reader.ReadLineAsync(cts.Token));

            // Both lines arrived together, so the second is buffered in the reader when the upgrade starts.
            // (The read's continuation may run inside the receive loop's flush, before the reader has counted
            // the flushed bytes, so the count is checked once the loop has moved on.)
            for (int i = 0; i < 1000 && reader.BufferedBytes == 0; i++)
            {
                await Task.Delay(1, cts.Token);
            }

            Assert.Equal(8, reader.BufferedBytes);
            await writer.StartTlsAsync(Certs.TrustingClientOptions("localhost"), cts.Token);
            Assert.NotNull(writer.SslStream);
            Assert.False(writer.CanWriteEof);
            Assert.Equal(Ascii("plain 2\n"), await reader.ReadLineAsync(cts.Token));

            writer.Write(Ascii("over tls\n"));
            Assert.Equal(Ascii("over tls\n"), await reader.ReadLineAsync(cts.Token));
            await server;

            // The peer's close_notify over TLS closes both directions.
            Assert.Empty(await reader.ReadLineAsync(cts.Token));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            Assert.True(writer.IsClosing);
        }
    }

    [Fact]
    public async Task StartTlsAsync_Server_UpgradesAfterStartTlsCommand()
    {
        using var cts = Bounded();
        using Socket listener = Listen();

        // The server end is this library's transport over an accepted socket; the client is a plain socket + SslStream.
        var client = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task connect = client.ConnectAsync(listener.LocalEndPoint!, cts.Token).AsTask();
        Socket accepted = await listener.AcceptAsync(cts.Token);
        await connect;
        var (reader, writer) = Connection.Start(accepted, null, TransportSettings.From((StreamServerOptions?)null));

        Task serverSide = Task.Run(async () =>
        {
            Assert.Equal(Ascii("STARTTLS\n"), await reader.ReadLineAsync(cts.Token));
            writer.Write(Ascii("OK\n"));
            await writer.StartTlsAsync(Certs.ServerOptions(), cts.Token);
            byte[] line = await reader.ReadLineAsync(cts.Token);
            writer.Write(line);
            await writer.DrainAsync(cts.Token);
            Assert.Equal(Certs.Server.Thumbprint, ((System.Security.Cryptography.X509Certificates.X509Certificate2)writer.SslStream!.LocalCertificate!).Thumbprint);
            Assert.IsType<SslServerAuthenticationOptions>(writer.GetExtraInfo("sslcontext"));
        }, cts.Token);

        using (client)
        {
            await client.SendAsync(Ascii("STARTTLS\n"), SocketFlags.None, cts.Token);
            Assert.Equal(Ascii("OK\n"), await ReceiveExactlyAsync(client, 3, cts.Token));
            using var ssl = new SslStream(new NetworkStream(client, ownsSocket: false));
            await ssl.AuthenticateAsClientAsync(Certs.TrustingClientOptions("localhost"), cts.Token);
            await ssl.WriteAsync(Ascii("hello tls\n"), cts.Token);
            var buffer = new byte[10];
            int total = 0;
            while (total < buffer.Length)
            {
                total += await ssl.ReadAsync(buffer.AsMemory(total), cts.Token);
            }

            Assert.Equal(Ascii("hello tls\n"), buffer);
            await serverSide;

            // Closing over TLS sends close_notify: the client reads a clean end of stream.
            writer.Close();
            Assert.Equal(0, await ssl.ReadAsync(buffer, cts.Token));
            await ssl.ShutdownAsync();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }

    [Fact]
    public async Task StartTlsAsync_BothEndsThisLibrary_UpgradeAndEcho()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (clientReader, clientWriter, accepted) = await ConnectAsync(listener, null, cts.Token);
        var (serverReader, serverWriter) = Connection.Start(accepted, null, TransportSettings.From((StreamServerOptions?)null));

        clientWriter.Write(Ascii("STARTTLS\n"));
        Assert.Equal(Ascii("STARTTLS\n"), await serverReader.ReadLineAsync(cts.Token));
        serverWriter.Write(Ascii("OK\n"));
        Task serverUpgrade = serverWriter.StartTlsAsync(Certs.ServerOptions(), cts.Token);
        Assert.Equal(Ascii("OK\n"), await clientReader.ReadLineAsync(cts.Token));
        await clientWriter.StartTlsAsync(Certs.TrustingClientOptions("localhost"), cts.Token);
        await serverUpgrade;

        byte[] payload = Payload(100 * 1024, seed: 9);
        clientWriter.Write(payload);
        Assert.Equal(payload, await serverReader.ReadExactlyAsync(payload.Length, cts.Token));
        serverWriter.Write(payload);
        Assert.Equal(payload, await clientReader.ReadExactlyAsync(payload.Length, cts.Token));

        await clientWriter.DisposeAsync();
        Assert.Empty(await serverReader.ReadAsync(-1, cts.Token));
        await serverWriter.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task StartTlsAsync_InvalidStates_ThrowInvalidOperationException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            await Assert.ThrowsAsync<ArgumentNullException>(() => writer.StartTlsAsync((SslClientAuthenticationOptions)null!, cts.Token));
            writer.Close();
            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.StartTlsAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cts.Token));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }

    [Fact]
    public async Task StartTlsAsync_PeerRejectsHandshake_ThrowsAndClosesConnection()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            // The peer answers the ClientHello with plain text, which is no TLS at all.
            Task garbage = Task.Run(async () =>
            {
                await ReceiveExactlyAsync(peer, 5, cts.Token);
                await peer.SendAsync(Ascii("HTTP/1.1 400 Bad Request\r\n\r\n"), SocketFlags.None, cts.Token);
            }, cts.Token);

            await Assert.ThrowsAsync<AuthenticationException>(() => writer.StartTlsAsync(Certs.TrustingClientOptions("localhost"), cts.Token));
            await garbage;
            Assert.True(writer.IsClosing);
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }
}
