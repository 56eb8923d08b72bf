using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class WriterConnectionLossTests
{
    private static void Reset(Socket peer)
    {
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
    }

    [Fact]
    public async Task DrainAsync_AfterPeerReset_ThrowsIOException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        Reset(peer);

        // The reader learns of the reset first (as asyncio's connection_lost(exc) sets the reader's exception).
        await Assert.ThrowsAsync<IOException>(async () => await reader.ReadAsync(10, cts.Token));
        Assert.IsType<IOException>(reader.Exception);
        await Assert.ThrowsAsync<IOException>(async () => await writer.DrainAsync(cts.Token));
        Assert.True(writer.IsClosing);

        // Writes after the loss are dropped silently.
        writer.Write(Ascii("dropped"));
        writer.WriteLines([Ascii("dropped")]);
        await writer.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task DrainAsync_WaitingWhenPeerResets_ThrowsIOException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { WriteHighWaterMark = 16 * 1024, WriteLowWaterMark = 0 };
        var (_, writer, peer) = await ConnectAsync(listener, options, cts.Token);
        ((Socket)writer.GetExtraInfo("socket")!).SendBufferSize = 32 * 1024;
        writer.Write(Payload(4 * 1024 * 1024));
        ValueTask drain = writer.DrainAsync(cts.Token);
        Assert.False(drain.IsCompleted);

        Reset(peer);
        await Assert.ThrowsAsync<IOException>(async () => await drain);
        await writer.WaitClosedAsync().WaitAsync(cts.Token);
        Assert.Equal(0, writer.WriteBufferSize);
    }

    [Fact]
    public async Task DrainAsync_ReaderHasException_ThrowsIt()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            var stored = new InvalidDataException("protocol error");
            reader.SetException(stored);
            Assert.Same(stored, await Assert.ThrowsAsync<InvalidDataException>(async () => await writer.DrainAsync(cts.Token)));
            await writer.DisposeAsync();
        }
    }
}
