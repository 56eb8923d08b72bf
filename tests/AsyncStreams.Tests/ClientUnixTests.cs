using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class ClientUnixTests
{
    [Fact]
    public async Task OpenUnixConnectionAsync_EchoPeer_RoundTrips()
    {
        using var cts = Bounded();
        string path = Path.Combine(Path.GetTempPath(), $"as-{Guid.NewGuid():N}.sock");
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            Task<Socket> accept = listener.AcceptAsync(cts.Token).AsTask();
            var (reader, writer) = await Streams.OpenUnixConnectionAsync(path, cancellationToken: cts.Token);
            using Socket peer = await accept;

            Assert.IsType<UnixDomainSocketEndPoint>(writer.GetExtraInfo("peername"));
            Assert.True(writer.CanWriteEof);
            byte[] payload = Payload(300 * 1024);
            writer.Write(payload);
            writer.WriteEof();
            byte[] received = await ReceiveToEndAsync(peer, cts.Token);
            Assert.Equal(payload, received);

            await peer.SendAsync(Ascii("pong\n"), SocketFlags.None, cts.Token);
            peer.Shutdown(SocketShutdown.Send);
            Assert.Equal(Ascii("pong\n"), await reader.ReadLineAsync(cts.Token));
            Assert.Empty(await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task OpenUnixConnectionAsync_NothingListening_ThrowsSocketException()
    {
        using var cts = Bounded();
        string path = Path.Combine(Path.GetTempPath(), $"as-{Guid.NewGuid():N}.sock");
        await Assert.ThrowsAsync<SocketException>(() => Streams.OpenUnixConnectionAsync(path, cancellationToken: cts.Token));
    }
}
