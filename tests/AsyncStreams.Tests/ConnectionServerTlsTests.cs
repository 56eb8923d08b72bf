using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using AsyncStreams.Internal;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

/// <summary>The server-side handshake the server builds on: success, failure and timeout.</summary>
public class ConnectionServerTlsTests
{
    private static TlsTestCertificates Certs => TlsTestCertificates.Shared;

    private static async Task<(Socket Client, Socket Accepted)> PairAsync(Socket listener, CancellationToken cancellationToken)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task connect = client.ConnectAsync(listener.LocalEndPoint!, cancellationToken).AsTask();
        Socket accepted = await listener.AcceptAsync(cancellationToken);
        await connect;
        return (client, accepted);
    }

    [Fact]
    public async Task AuthenticateAsServerAsync_TlsClient_StartsTlsConnection()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (client, accepted) = await PairAsync(listener, cts.Token);
        using (client)
        {
            TransportSettings settings = TransportSettings.From(new StreamServerOptions());
            SslServerAuthenticationOptions serverOptions = Certs.ServerOptions();
            Task<SslStream> handshake = Connection.AuthenticateAsServerAsync(accepted, serverOptions, settings, cts.Token);
            using var ssl = new SslStream(new NetworkStream(client, ownsSocket: false));
            await ssl.AuthenticateAsClientAsync(Certs.TrustingClientOptions("localhost"), cts.Token);
            var (reader, writer) = Connection.Start(accepted, await handshake, settings);

            Assert.Same(serverOptions, writer.GetExtraInfo("sslcontext"));
            await ssl.WriteAsync(Ascii("ping\n"), cts.Token);
            Assert.Equal(Ascii("ping\n"), await reader.ReadLineAsync(cts.Token));
            writer.Write(Ascii("pong\n"));
            var buffer = new byte[5];
            int total = 0;
            while (total < 5)
            {
                total += await ssl.ReadAsync(buffer.AsMemory(total), cts.Token);
            }

            Assert.Equal(Ascii("pong\n"), buffer);

            // The close sends close_notify and waits for the client's answer (or the shutdown timeout).
            writer.Close();
            Assert.Equal(0, await ssl.ReadAsync(buffer, cts.Token));
            await ssl.ShutdownAsync();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }

    [Fact]
    public async Task AuthenticateAsServerAsync_PlaintextClient_ThrowsAuthenticationExceptionAndClosesSocket()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (client, accepted) = await PairAsync(listener, cts.Token);
        using (client)
        {
            await client.SendAsync(Ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), SocketFlags.None, cts.Token);
            await Assert.ThrowsAsync<AuthenticationException>(() => Connection.AuthenticateAsServerAsync(
                accepted, Certs.ServerOptions(), TransportSettings.From(new StreamServerOptions()), cts.Token));
            await ReceiveToEndAsync(client, cts.Token);
        }
    }

    [Fact]
    public async Task AuthenticateAsServerAsync_ClientSilent_ThrowsTimeoutException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (client, accepted) = await PairAsync(listener, cts.Token);
        using (client)
        {
            var settings = TransportSettings.From(new StreamServerOptions { SslHandshakeTimeout = TimeSpan.FromMilliseconds(200) });
            await Assert.ThrowsAsync<TimeoutException>(() => Connection.AuthenticateAsServerAsync(accepted, Certs.ServerOptions(), settings, cts.Token));
            Assert.Empty(await ReceiveToEndAsync(client, cts.Token));
        }
    }
}
