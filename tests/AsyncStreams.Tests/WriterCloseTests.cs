using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class WriterCloseTests
{
    [Fact]
    public async Task Write_AfterClose_ThrowsInvalidOperationException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            writer.Close();
            Assert.True(writer.IsClosing);
            Assert.Throws<InvalidOperationException>(() => writer.Write(Ascii("late")));
            Assert.Throws<InvalidOperationException>(() => writer.WriteLines([Ascii("late")]));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            Assert.Throws<InvalidOperationException>(() => writer.Write(Ascii("later")));
        }
    }

    [Fact]
    public async Task Close_WithQueuedBytes_SendsThemThenFin()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            ((Socket)writer.GetExtraInfo("socket")!).SendBufferSize = 32 * 1024;
            byte[] payload = Payload(1024 * 1024, seed: 11);
            writer.Write(payload);
            Assert.True(writer.WriteBufferSize > 0);
            writer.Close();
            writer.Close();

            Assert.Equal(payload, await ReceiveToEndAsync(peer, cts.Token));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            Assert.Equal(0, writer.WriteBufferSize);

            // asyncio feeds EOF to the reader when the transport closes.
            Assert.Empty(await reader.ReadAsync(100, cts.Token));
            Assert.True(reader.AtEof);
        }
    }

    [Fact]
    public async Task DrainAsync_AfterClosed_ThrowsIOException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            await writer.DisposeAsync();
            Assert.True(writer.WaitClosedAsync().IsCompletedSuccessfully);
            await Assert.ThrowsAsync<IOException>(async () => await writer.DrainAsync(cts.Token));
        }
    }

    [Fact]
    public async Task Close_ReaderFull_StillCloses()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, new ConnectionOptions { Limit = 1024 }, cts.Token);
        using (peer)
        {
            // The peer sends far more than 2 x Limit; the receive loop pauses while nobody reads.
            byte[] flood = Payload(256 * 1024);
            _ = peer.SendAsync(flood, SocketFlags.None, cts.Token).AsTask();
            for (int i = 0; i < 2000 && reader.BufferedBytes <= 2 * reader.Limit; i++)
            {
                await Task.Delay(5, cts.Token);
            }

            Assert.True(reader.BufferedBytes > 2 * reader.Limit);
            writer.Close();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            byte[] got = await reader.ReadAsync(-1, cts.Token);
            Assert.True(got.Length > 2 * reader.Limit && got.Length < flood.Length, $"read {got.Length}");
            Assert.Equal(flood.AsSpan(0, got.Length).ToArray(), got);
            Assert.True(reader.AtEof);
        }
    }

    [Fact]
    public async Task Abort_ResetsConnection_PeerSeesReset()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            writer.Write(Ascii("before abort"));
            Assert.Equal(Ascii("before abort"), await ReceiveExactlyAsync(peer, 12, cts.Token));
            writer.Abort();
            Assert.True(writer.IsClosing);
            await writer.WaitClosedAsync().WaitAsync(cts.Token);

            var error = await Assert.ThrowsAsync<SocketException>(async () => await peer.ReceiveAsync(new byte[1], SocketFlags.None, cts.Token));
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
            Assert.Empty(await reader.ReadAsync(10, cts.Token));

            // After the loss writes are dropped silently and drains report it, as asyncio does.
            writer.Write(Ascii("dropped"));
            await Assert.ThrowsAsync<IOException>(async () => await writer.DrainAsync(cts.Token));
        }
    }
}
