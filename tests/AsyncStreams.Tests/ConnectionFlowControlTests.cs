using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class ConnectionFlowControlTests
{
    private const int Limit = 4096;

    [Fact]
    public async Task ReceiveLoop_ReaderNotReading_PausesNearTwiceLimitThenResumes()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer, payload, send) = await FloodWithoutReadingAsync(listener, seed: 21, cts.Token);
        using (peer)
        {
            Assert.True(reader.BufferedBytes <= 2 * Limit + 64 * 1024, $"buffered {reader.BufferedBytes}");
            Assert.True(reader.BufferedBytes > Limit, $"buffered {reader.BufferedBytes}");

            // Reading resumes the loop, and every byte arrives in order.
            Assert.Equal(payload, await reader.ReadExactlyAsync(payload.Length, cts.Token));
            await send;
            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task ReceiveLoop_ReaderHasException_StopsReceiving()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, new ConnectionOptions { Limit = 1024 }, cts.Token);
        using (peer)
        {
            reader.SetException(new InvalidDataException("bad frame"));
            Task send = peer.SendAsync(Payload(8 * 1024 * 1024), SocketFlags.None, cts.Token).AsTask();
            await Task.WhenAny(send, Task.Delay(500, cts.Token));
            Assert.False(send.IsCompleted);
            Assert.True(reader.BufferedBytes <= 64 * 1024, $"buffered {reader.BufferedBytes}");
            writer.Abort();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }

    [Fact]
    public async Task Close_WhileReceivingIsPausedForAFullReader_ClosesAndTheReaderKeepsWhatItHolds()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer, payload, send) = await FloodWithoutReadingAsync(listener, seed: 7, cts.Token);
        using (peer)
        {
            long held = reader.BufferedBytes;
            Assert.True(held > Limit, $"buffered {held}");

            // The paused receiving ends with the close: the close completes, and the reader returns the bytes it
            // holds, in order, then the end of the stream.
            writer.Close();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            byte[] rest = await reader.ReadAsync(-1, cts.Token);
            Assert.True(rest.Length >= held, $"read {rest.Length} of {held} held");
            Assert.Equal(payload.AsSpan(0, rest.Length).ToArray(), rest);
            Assert.True(reader.AtEof);
            await Assert.ThrowsAnyAsync<Exception>(() => send.WaitAsync(cts.Token));
        }
    }

    // Connects with a 4 KiB limit, and has the peer send 4 MiB that nobody reads, long enough for an unbounded
    // receive loop to take everything; a paused one stalls the sender, which is asserted.
    private static async Task<(StreamReader Reader, StreamWriter Writer, Socket Peer, byte[] Payload, Task Send)> FloodWithoutReadingAsync(
        Socket listener, int seed, CancellationToken cancellationToken)
    {
        var (reader, writer, peer) = await ConnectAsync(listener, new ConnectionOptions { Limit = Limit }, cancellationToken);

        // A small send buffer on the peer keeps the kernel from absorbing the whole payload.
        peer.SendBufferSize = 64 * 1024;
        byte[] payload = Payload(4 * 1024 * 1024, seed);
        Task send = peer.SendAsync(payload, SocketFlags.None, cancellationToken).AsTask();
        await Task.WhenAny(send, Task.Delay(500, cancellationToken));
        Assert.False(send.IsCompleted);
        return (reader, writer, peer, payload, send);
    }
}
