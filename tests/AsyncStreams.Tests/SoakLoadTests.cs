using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AsyncStreams.Tests;

/// <summary>
/// Load: 2,000 connections open at once, each exchanging frames of random sizes (empty ones included) whose
/// checksums the server verifies and whose echoes the client compares byte for byte. Not one byte may be lost,
/// changed or reordered. <c>ASYNCSTREAMS_SOAK=1</c> runs many more and larger frames per connection.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class SoakLoadTests
{
    // A frame: sequence number (4 bytes), payload length (4), first 8 bytes of the payload's SHA-256, payload.
    private const int HeaderSize = 16;

    [Fact]
    public async Task Echo_2000ConcurrentConnectionsChecksummedRandomPayloads_NoByteLostOrReordered()
    {
        const int Connections = 2000;
        var frames = Soak.Pick(4, 150);
        var maxPayload = Soak.Pick(32 * 1024, 256 * 1024);
        if (FileDescriptors.EnsureAtLeast((2 * Connections) + 1024) is { } reason)
        {
            Assert.Skip($"2,000 connections need both of their ends in this process: {reason}.");
        }

        using var cts = Soak.Bound(120, 3600);
        var guard = await LeakGuard.StartAsync();
        var server = new FrameServer();
        await using (var listener = await StreamServer.StartAsync(
            server.ServeAsync, "127.0.0.1", 0, new StreamServerOptions { Backlog = 4096 }, cts.Token))
        {
            var port = ServerTestKit.Port(listener);
            var allConnected = new Rendezvous(Connections);
            var allExchanged = new Rendezvous(Connections);
            var clients = new Task<long>[Connections];
            for (var id = 0; id < Connections; id++)
            {
                var client = id;
                clients[id] = Task.Run(
                    async () =>
                    {
                        try
                        {
                            return await RunClientAsync(client, port, frames, maxPayload, allConnected, allExchanged, cts.Token);
                        }
                        catch
                        {
                            // One failure releases everyone waiting at a rendezvous instead of leaving them to the bound.
                            await cts.CancelAsync();
                            throw;
                        }
                    },
                    cts.Token);
            }

            var all = Task.WhenAll(clients);
            try
            {
                await all;
            }
            catch (Exception) when (all.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) is { } cause)
            {
                throw new InvalidOperationException("A client failed: " + cause.Message, cause);
            }

            var echoed = await all;

            Assert.Equal(Connections, server.MaxLive);
            Assert.Equal(0, server.Errors);
            Assert.Equal((long)Connections * frames, server.Frames);
            Assert.Equal(echoed.Sum(), server.PayloadBytes);
            Assert.Equal(Connections, server.CleanEnds);
        }

        await guard.AssertCleanAsync();
    }

    private static async Task<long> RunClientAsync(
        int id, int port, int frames, int maxPayload, Rendezvous allConnected, Rendezvous allExchanged, CancellationToken cancellationToken)
    {
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: cancellationToken);

        // Every connection is open before any sends, so the server holds all of them at once.
        await allConnected.ArriveAsync(cancellationToken);

        var sending = SendFramesAsync(writer, id, frames, maxPayload, cancellationToken);
        long payloadBytes = 0;
        var header = new byte[HeaderSize];
        for (var seq = 0; seq < frames; seq++)
        {
            var expected = MakePayload(id, seq, maxPayload);
            await reader.ReadExactlyAsync(header, cancellationToken);
            Assert.Equal(MakeHeader(seq, expected), header);
            var echo = await reader.ReadExactlyAsync(expected.Length, cancellationToken);
            Assert.True(expected.AsSpan().SequenceEqual(echo), $"Connection {id} frame {seq}: the echo differs from what was sent.");
            payloadBytes += echo.Length;
        }

        await sending;
        await allExchanged.ArriveAsync(cancellationToken);

        // The server answers the end of the stream by closing: nothing may follow the last echo.
        writer.WriteEof();
        Assert.Empty(await reader.ReadAsync(-1, cancellationToken));
        await writer.DisposeAsync();
        return payloadBytes;
    }

    private static async Task SendFramesAsync(StreamWriter writer, int id, int frames, int maxPayload, CancellationToken cancellationToken)
    {
        for (var seq = 0; seq < frames; seq++)
        {
            var payload = MakePayload(id, seq, maxPayload);
            writer.Write(MakeHeader(seq, payload));
            writer.Write(payload);
            await writer.DrainAsync(cancellationToken);
        }
    }

    // Sizes are skewed as real traffic is: many tiny frames (empty ones included), some of a few KiB, a few large.
    private static byte[] MakePayload(int id, int seq, int maxPayload)
    {
        var random = new Random((id * 100_003) + seq);
        var bucket = random.Next(100);
        var length = bucket < 40 ? random.Next(0, 64) : bucket < 85 ? random.Next(64, 4096) : random.Next(4096, maxPayload + 1);
        var payload = new byte[length];
        random.NextBytes(payload);
        return payload;
    }

    private static byte[] MakeHeader(int seq, ReadOnlySpan<byte> payload)
    {
        var header = new byte[HeaderSize];
        BinaryPrimitives.WriteInt32BigEndian(header, seq);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), payload.Length);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, hash);
        hash[..8].CopyTo(header.AsSpan(8));
        return header;
    }

    /// <summary>The server side: verifies each frame's sequence and checksum, echoes it, and closes at a clean end of stream.</summary>
    private sealed class FrameServer
    {
        private int _live;
        private int _maxLive;
        private int _errors;
        private int _cleanEnds;
        private long _frames;
        private long _payloadBytes;

        public int MaxLive => Volatile.Read(ref _maxLive);

        public int Errors => Volatile.Read(ref _errors);

        public int CleanEnds => Volatile.Read(ref _cleanEnds);

        public long Frames => Interlocked.Read(ref _frames);

        public long PayloadBytes => Interlocked.Read(ref _payloadBytes);

        public async Task ServeAsync(StreamReader reader, StreamWriter writer)
        {
            var live = Interlocked.Increment(ref _live);
            for (var max = Volatile.Read(ref _maxLive); live > max; max = Volatile.Read(ref _maxLive))
            {
                Interlocked.CompareExchange(ref _maxLive, live, max);
            }

            try
            {
                var header = new byte[HeaderSize];
                for (var expectedSeq = 0; ; expectedSeq++)
                {
                    try
                    {
                        await reader.ReadExactlyAsync(header);
                    }
                    catch (IncompleteReadException end) when (end.Partial.Length == 0)
                    {
                        Interlocked.Increment(ref _cleanEnds);
                        break;
                    }

                    var seq = BinaryPrimitives.ReadInt32BigEndian(header);
                    var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
                    var payload = await reader.ReadExactlyAsync(length);
                    if (seq != expectedSeq || !MakeHeader(seq, payload).AsSpan().SequenceEqual(header))
                    {
                        Interlocked.Increment(ref _errors);
                    }

                    Interlocked.Increment(ref _frames);
                    Interlocked.Add(ref _payloadBytes, length);
                    writer.Write(header);
                    writer.Write(payload);
                    await writer.DrainAsync();
                }
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _errors);
                throw;
            }
            finally
            {
                Interlocked.Decrement(ref _live);
            }

            await writer.DisposeAsync();
        }
    }

    /// <summary>Releases everyone once <c>count</c> parties have arrived.</summary>
    private sealed class Rendezvous(int count)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public Task ArriveAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _arrived) == count)
            {
                _all.TrySetResult();
            }

            return _all.Task.WaitAsync(cancellationToken);
        }
    }
}
