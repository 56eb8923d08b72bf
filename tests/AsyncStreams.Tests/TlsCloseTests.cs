using System.Net.Security;
using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class TlsCloseTests
{
    private static TlsTestCertificates Certs => TlsTestCertificates.Shared;

    private static async Task<(StreamReader Reader, StreamWriter Writer, SslStream Peer, Socket PeerSocket)> ConnectTlsAsync(
        Socket listener, ConnectionOptions? options, CancellationToken cancellationToken)
    {
        Task<Socket> accept = listener.AcceptAsync(cancellationToken).AsTask();
        Task<(StreamReader, StreamWriter)> open = Streams.OpenConnectionAsync(
            "localhost", listener.Port(), Certs.TrustingClientOptions(), options, cancellationToken);
        Socket socket = await accept;
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await ssl.AuthenticateAsServerAsync(Certs.ServerOptions(), cancellationToken);
        var (reader, writer) = await open;
        return (reader, writer, ssl, socket);
    }

    [Fact]
    public async Task Close_PeerNeverAnswersCloseNotify_ClosesAfterShutdownTimeout()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { SslShutdownTimeout = TimeSpan.FromMilliseconds(200) };
        var (_, writer, peer, peerSocket) = await ConnectTlsAsync(listener, options, cts.Token);
        using (peerSocket)
        using (peer)
        {
            writer.Write(Ascii("last words\n"));
            writer.Close();

            // The peer does not read, so it never answers the close_notify; the close still ends.
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            Assert.True(writer.IsClosing);

            var buffer = new byte[11];
            int total = 0;
            while (total < buffer.Length)
            {
                total += await peer.ReadAsync(buffer.AsMemory(total), cts.Token);
            }

            Assert.Equal(Ascii("last words\n"), buffer);
            Assert.Equal(0, await peer.ReadAsync(buffer, cts.Token));
        }
    }

    [Fact]
    public async Task Close_RightAfterHandshakeManyTimes_SendsCloseNotifyAndWaitsForTheAnswer()
    {
        // Closing right after the handshake meets the server's TLS 1.3 session tickets, which the receive loop is
        // processing (when the server's side of the handshake has finished) or which arrive after the close began
        // (when it has not). Every close must still send close_notify and then wait for the peer's: the shutdown
        // timeout (default, 30 s) must not be what ends any of them.
        const int Iterations = 200;
        using var cts = Bounded(TimeSpan.FromSeconds(60));
        using Socket listener = Listen();
        for (int i = 0; i < Iterations; i++)
        {
            Task<Socket> accept = listener.AcceptAsync(cts.Token).AsTask();
            Task<(StreamReader, StreamWriter)> open = Streams.OpenConnectionAsync(
                "localhost", listener.Port(), Certs.TrustingClientOptions(), cancellationToken: cts.Token);
            using Socket peerSocket = await accept;
            using var peer = new SslStream(new NetworkStream(peerSocket, ownsSocket: false));
            Task serverHandshake = peer.AuthenticateAsServerAsync(Certs.ServerOptions(), cts.Token);
            if (i % 2 == 0)
            {
                await serverHandshake;
            }

            var (_, writer) = await open;
            writer.Write(Ascii("last words\n"));
            writer.Close();
            await serverHandshake;

            var buffer = new byte[11];
            int total = 0;
            while (total < buffer.Length)
            {
                int n = await peer.ReadAsync(buffer.AsMemory(total), cts.Token);
                Assert.True(n > 0, $"Connection {i}: the stream ended after {total} bytes.");
                total += n;
            }

            Assert.Equal(Ascii("last words\n"), buffer);
            Assert.Equal(0, await peer.ReadAsync(buffer, cts.Token));

            // That end was the close_notify, not the socket's FIN (which would leave the socket readable): the
            // client keeps its socket open while it waits for the answer.
            Assert.False(
                peerSocket.Poll(0, SelectMode.SelectRead),
                $"Connection {i} closed its socket without the close_notify exchange.");
            Task closed = writer.WaitClosedAsync();
            await peer.ShutdownAsync();
            await Task.WhenAny(closed, Task.Delay(Timeout.Infinite, cts.Token));
            Assert.True(closed.IsCompletedSuccessfully, $"The close of connection {i} did not end.");
        }
    }

    [Fact]
    public async Task PeerCloseNotify_OverTls_ClosesBothDirections()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer, peerSocket) = await ConnectTlsAsync(listener, null, cts.Token);
        using (peerSocket)
        using (peer)
        {
            await peer.WriteAsync(Ascii("bye\n"), cts.Token);
            await peer.ShutdownAsync();
            Assert.Equal(Ascii("bye\n"), await reader.ReadLineAsync(cts.Token));
            Assert.Empty(await reader.ReadLineAsync(cts.Token));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            Assert.True(writer.IsClosing);

            // Writing on a connection the peer closed drops the bytes, as asyncio does; draining reports the loss.
            writer.Write(Ascii("dropped"));
            await Assert.ThrowsAsync<IOException>(async () => await writer.DrainAsync(cts.Token));

            // Our side answered with its own close_notify: the peer reads a clean end of stream.
            Assert.Equal(0, await peer.ReadAsync(new byte[1], cts.Token));
        }
    }
}
