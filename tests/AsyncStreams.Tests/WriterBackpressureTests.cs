using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class WriterBackpressureTests
{
    // A small send buffer makes the kernel push back after little data, so the writer's own queue fills fast.
    // (Shrinking the peer's receive buffer instead would slow the transfer to a crawl once it reads.)
    private static StreamWriter SmallSendBuffer(StreamWriter writer)
    {
        ((Socket)writer.GetExtraInfo("socket")!).SendBufferSize = 32 * 1024;
        return writer;
    }

    [Fact]
    public async Task DrainAsync_PeerNotReading_WaitsAboveHighMarkAndCompletesWhenPeerReads()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { WriteHighWaterMark = 64 * 1024, WriteLowWaterMark = 16 * 1024 };
        var (_, writer, peer) = await ConnectAsync(listener, options, cts.Token);
        SmallSendBuffer(writer);
        using (peer)
        {
            byte[] chunk = Payload(8 * 1024);
            long written = 0;

            // Write far more than the kernel's buffers hold; the peer reads nothing meanwhile.
            for (int i = 0; i < 256; i++)
            {
                writer.Write(chunk);
                written += chunk.Length;
            }

            Assert.True(writer.WriteBufferSize > options.WriteHighWaterMark, $"queued {writer.WriteBufferSize}");
            ValueTask drain = writer.DrainAsync(cts.Token);
            Assert.False(drain.IsCompleted);

            // Once the peer reads, the queue falls to the low-water mark and the drain completes.
            Task<byte[]> read = ReceiveExactlyAsync(peer, checked((int)written), cts.Token);
            await drain;
            Assert.True(writer.WriteBufferSize <= options.WriteLowWaterMark, $"queued {writer.WriteBufferSize}");
            byte[] received = await read;
            for (int offset = 0; offset < received.Length; offset += chunk.Length)
            {
                Assert.Equal(chunk, received.AsSpan(offset, chunk.Length).ToArray());
            }

            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task DrainAsync_AtOrUnderHighMark_CompletesSynchronously()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            writer.Write(Payload(1000));
            ValueTask drain = writer.DrainAsync(cts.Token);
            Assert.True(drain.IsCompletedSuccessfully);
            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task DrainAsync_ManyConcurrentDrainers_AllComplete()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { WriteHighWaterMark = 32 * 1024, WriteLowWaterMark = 0 };
        var (_, writer, peer) = await ConnectAsync(listener, options, cts.Token);
        SmallSendBuffer(writer);
        using (peer)
        {
            long written = 0;
            byte[] chunk = Payload(4096);
            for (int i = 0; i < 512; i++)
            {
                writer.Write(chunk);
                written += chunk.Length;
            }

            Assert.True(writer.WriteBufferSize > options.WriteHighWaterMark, $"queued {writer.WriteBufferSize}");

            ValueTask[] drains = Enumerable.Range(0, 8).Select(_ => writer.DrainAsync(cts.Token)).ToArray();
            Assert.All(drains, d => Assert.False(d.IsCompleted));
            Task<byte[]> read = ReceiveExactlyAsync(peer, checked((int)written), cts.Token);
            foreach (ValueTask drain in drains)
            {
                await drain;
            }

            Assert.Equal(0, writer.WriteBufferSize);
            await read;
            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task DrainAsync_Canceled_ThrowsAndQueuedBytesStillArrive()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { WriteHighWaterMark = 16 * 1024, WriteLowWaterMark = 4 * 1024 };
        var (_, writer, peer) = await ConnectAsync(listener, options, cts.Token);
        SmallSendBuffer(writer);
        using (peer)
        {
            byte[] payload = Payload(1024 * 1024, seed: 3);
            writer.Write(payload);
            Assert.True(writer.WriteBufferSize > options.WriteHighWaterMark);

            using var cancel = new CancellationTokenSource();
            ValueTask drain = writer.DrainAsync(cancel.Token);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await drain);

            writer.Close();
            Assert.Equal(payload, await ReceiveToEndAsync(peer, cts.Token));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }

    [Fact]
    public async Task WriteLines_PeerNotReading_CountsAgainstHighMark()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { WriteHighWaterMark = 16 * 1024, WriteLowWaterMark = 1024 };
        var (_, writer, peer) = await ConnectAsync(listener, options, cts.Token);
        SmallSendBuffer(writer);
        using (peer)
        {
            byte[][] lines = Enumerable.Range(0, 256).Select(i => Payload(4096, seed: i)).ToArray();
            writer.WriteLines(lines);
            Assert.True(writer.WriteBufferSize > options.WriteHighWaterMark);
            ValueTask drain = writer.DrainAsync(cts.Token);
            Assert.False(drain.IsCompleted);

            Task<byte[]> read = ReceiveExactlyAsync(peer, lines.Length * 4096, cts.Token);
            await drain;
            Assert.Equal(lines.SelectMany(l => l).ToArray(), await read);
            await writer.DisposeAsync();
        }
    }
}
