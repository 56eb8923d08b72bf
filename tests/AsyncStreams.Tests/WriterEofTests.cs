using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class WriterEofTests
{
    [Fact]
    public async Task WriteEof_PlainTcp_HalfClosesAndStillReceives()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            Assert.True(writer.CanWriteEof);
            writer.Write(Ascii("request"));
            writer.WriteEof();
            writer.WriteEof();
            Assert.Throws<InvalidOperationException>(() => writer.Write(Ascii("more")));
            Assert.False(writer.IsClosing);

            // The peer sees the bytes, then EOF, and can still answer.
            Assert.Equal(Ascii("request"), await ReceiveToEndAsync(peer, cts.Token));
            await peer.SendAsync(Ascii("response"), SocketFlags.None, cts.Token);
            peer.Shutdown(SocketShutdown.Send);
            Assert.Equal(Ascii("response"), await reader.ReadAsync(-1, cts.Token));
            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task WriteEof_WithQueuedBytes_SendsThemFirst()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            ((Socket)writer.GetExtraInfo("socket")!).SendBufferSize = 32 * 1024;
            byte[] payload = Payload(1024 * 1024, seed: 5);
            writer.Write(payload);
            writer.WriteEof();
            Assert.Equal(payload, await ReceiveToEndAsync(peer, cts.Token));
            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task PeerEof_PlainTcp_IsHalfCloseAndWriterStaysUsable()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            peer.Shutdown(SocketShutdown.Send);
            Assert.Empty(await reader.ReadAsync(-1, cts.Token));
            Assert.True(reader.AtEof);
            Assert.False(writer.IsClosing);

            writer.Write(Ascii("still here"));
            await writer.DrainAsync(cts.Token);
            Assert.Equal(Ascii("still here"), await ReceiveExactlyAsync(peer, 10, cts.Token));
            writer.Close();
            Assert.Empty(await ReceiveToEndAsync(peer, cts.Token));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }
}
