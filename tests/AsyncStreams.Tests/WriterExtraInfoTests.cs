using System.Net;
using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class WriterExtraInfoTests
{
    [Fact]
    public async Task GetExtraInfo_PlainConnection_ReturnsEndPointsAndSocket()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            Assert.Equal(peer.LocalEndPoint, writer.GetExtraInfo("peername"));
            Assert.Equal(peer.RemoteEndPoint, writer.GetExtraInfo("sockname"));
            Assert.Equal(peer.LocalEndPoint, writer.RemoteEndPoint);
            Assert.Equal(peer.RemoteEndPoint, writer.LocalEndPoint);
            var socket = Assert.IsType<Socket>(writer.GetExtraInfo("socket"));
            Assert.Equal(writer.LocalEndPoint, socket.LocalEndPoint);

            Assert.Null(writer.SslStream);
            foreach (string key in new[] { "ssl_object", "peercert", "cipher", "sslcontext", "unknown" })
            {
                Assert.Null(writer.GetExtraInfo(key));
                Assert.Equal(42, writer.GetExtraInfo(key, 42));
            }

            Assert.Throws<ArgumentNullException>(() => writer.GetExtraInfo(null!));
            await writer.DisposeAsync();

            // End points stay readable after close.
            Assert.IsType<IPEndPoint>(writer.GetExtraInfo("peername"));
        }
    }
}
