using System.Buffers.Binary;
using System.Runtime.CompilerServices;
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

    // Frames a client may have sent whose echoes it has not read. Unbounded pipelining lets the kernel's socket buffers
    // grow to megabytes per connection (tcp_rmem autotuning); 2,000 of them cross net.ipv4.tcp_mem, the kernel then drops
    // loopback segments and the senders back off for minutes. The window keeps the load on this library, not on the kernel.
    private const int Window = 4;

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
            var states = new ClientState[Connections];
            var clients = new Task<long>[Connections];
            for (var id = 0; id < Connections; id++)
            {
                var client = id;
                clients[id] = Task.Run(
                    async () =>
                    {
                        try
                        {
                            states[client] = new ClientState(client);
                            return await RunClientAsync(states[client], port, frames, maxPayload, allConnected, allExchanged, cts.Token);
                        }
                        catch
                        {
                            // One failure releases everyone waiting at a rendezvous instead of leaving them to the bound.
                            states[client]?.Writer?.Close();
                            await cts.CancelAsync();
                            throw;
                        }
                    },
                    cts.Token);
            }

            var all = Task.WhenAll(clients);
            var stall = await WatchForStallAsync(all, states, server, TimeSpan.FromSeconds(Soak.Pick(30, 60)), cts);
            try
            {
                await all;
            }
            catch (Exception)
            {
                // The server's callbacks wait for their clients' next frame; a failed run resets them, so that the
                // listener's disposal (which waits for its connections) reports the failure instead of hanging.
                listener.AbortClients();
                if (stall is not null)
                {
                    Assert.Fail(stall);
                }

                if (all.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) is { } cause)
                {
                    throw new InvalidOperationException("A client failed: " + cause.Message, cause);
                }

                throw;
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

    // Waits for the clients; if no frame moves in either direction for `quiet`, describes every unfinished
    // connection, cancels the run and returns the description (null when the clients finish).
    private static async Task<string?> WatchForStallAsync(
        Task clients, ClientState[] states, FrameServer server, TimeSpan quiet, CancellationTokenSource cts)
    {
        var last = -1L;
        var lastMoved = DateTime.UtcNow;
        while (!clients.IsCompleted && !cts.IsCancellationRequested)
        {
            await Task.WhenAny(clients, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None));
            var progress = server.Frames + states.Sum(state => state is null ? 0 : Volatile.Read(ref state.Received));
            if (progress != last)
            {
                last = progress;
                lastMoved = DateTime.UtcNow;
                continue;
            }

            if (DateTime.UtcNow - lastMoved < quiet)
            {
                continue;
            }

            var report = new System.Text.StringBuilder();
            report.Append("No frame moved for ").Append(quiet.TotalSeconds).Append(" s; the server echoed ")
                .Append(server.Frames).Append(" frames. Unfinished clients:");
            // The connections furthest behind come first: they are the ones holding everyone else at a rendezvous.
            var behind = states.Where(state => state is not null && !state.Done)
                .OrderBy(state => Volatile.Read(ref state.Received)).ThenBy(state => Volatile.Read(ref state.Sent));
            foreach (var state in behind.Take(20))
            {
                report.AppendLine().Append("  ").Append(state.Describe());
            }

            report.AppendLine().Append("Server connections not at their end:");
            foreach (var line in server.Describe().Take(20))
            {
                report.AppendLine().Append("  ").Append(line);
            }

            // Kernel memory pressure shows here: TCP "mem" (pages) against the thresholds in net.ipv4.tcp_mem.
            report.AppendLine().Append(File.Exists("/proc/net/sockstat") ? File.ReadAllText("/proc/net/sockstat").Trim() : "no /proc/net/sockstat")
                .AppendLine().Append("tcp_mem: ").Append(File.Exists("/proc/sys/net/ipv4/tcp_mem") ? File.ReadAllText("/proc/sys/net/ipv4/tcp_mem").Trim() : "unknown");
            await cts.CancelAsync();
            return report.ToString();
        }

        return null;
    }

    private static async Task<long> RunClientAsync(
        ClientState state, int port, int frames, int maxPayload, Rendezvous allConnected, Rendezvous allExchanged, CancellationToken cancellationToken)
    {
        var id = state.Id;
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: cancellationToken);
        state.Reader = reader;
        state.Writer = writer;

        // Every connection is open before any sends, so the server holds all of them at once.
        await allConnected.ArriveAsync(cancellationToken);

        using var window = new SemaphoreSlim(Window);
        var sending = SendFramesAsync(state, writer, window, frames, maxPayload, cancellationToken);
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
            Interlocked.Increment(ref state.Received);
            window.Release();
        }

        await sending;
        await allExchanged.ArriveAsync(cancellationToken);

        // The server answers the end of the stream by closing: nothing may follow the last echo.
        writer.WriteEof();
        Assert.Empty(await reader.ReadAsync(-1, cancellationToken));
        await writer.DisposeAsync();
        state.Done = true;
        return payloadBytes;
    }

    private static async Task SendFramesAsync(
        ClientState state, StreamWriter writer, SemaphoreSlim window, int frames, int maxPayload, CancellationToken cancellationToken)
    {
        for (var seq = 0; seq < frames; seq++)
        {
            await window.WaitAsync(cancellationToken);
            var payload = MakePayload(state.Id, seq, maxPayload);
            writer.Write(MakeHeader(seq, payload));
            writer.Write(payload);
            await writer.DrainAsync(cancellationToken);
            Interlocked.Increment(ref state.Sent);
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
        private readonly System.Collections.Concurrent.ConcurrentDictionary<StreamReader, (StreamWriter Writer, StrongBox<int> Frames)> _open = new();

        public int MaxLive => Volatile.Read(ref _maxLive);

        public int Errors => Volatile.Read(ref _errors);

        public int CleanEnds => Volatile.Read(ref _cleanEnds);

        public long Frames => Interlocked.Read(ref _frames);

        public long PayloadBytes => Interlocked.Read(ref _payloadBytes);

        public IEnumerable<string> Describe() =>
            _open.OrderBy(entry => entry.Value.Frames.Value)
                .Select(entry => $"{entry.Key} after {entry.Value.Frames.Value} frames, {entry.Value.Writer.WriteBufferSize} bytes to send");

        public async Task ServeAsync(StreamReader reader, StreamWriter writer)
        {
            var served = new StrongBox<int>();
            _open[reader] = (writer, served);
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
                    served.Value++;
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
                _open.TryRemove(reader, out _);
            }

            await writer.DisposeAsync();
        }
    }

    /// <summary>One client's progress, for the stall report.</summary>
    private sealed class ClientState(int id)
    {
        public int Sent;
        public int Received;
        public volatile bool Done;

        public int Id => id;

        public StreamReader? Reader { get; set; }

        public StreamWriter? Writer { get; set; }

        public string Describe() =>
            $"client {id}: sent {Volatile.Read(ref Sent)}, received {Volatile.Read(ref Received)}, reader {Reader}, "
            + $"{Writer?.WriteBufferSize} bytes to send";
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
