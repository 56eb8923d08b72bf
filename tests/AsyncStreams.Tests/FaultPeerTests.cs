using System.Net.Sockets;
using System.Security.Cryptography;

namespace AsyncStreams.Tests;

/// <summary>
/// Peers that misbehave at the TCP level: resets in the middle of a read or a write, half-closes, clients that vanish
/// with data queued for them, and peers that never read. Each ends that connection only; the server goes on serving,
/// and nothing leaks.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultPeerTests
{
    // Soak runs repeat each reset and vanish scenario against one server, to shake out races between the loss and
    // the application's calls.
    private static readonly int Rounds = Soak.Pick(1, 300);
    [Fact]
    public async Task Reset_MidRead_PendingReadThrowsIOExceptionAndServerGoesOn()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var round = new Round();
        await using (var server = await StreamServer.StartAsync(
            RawPeer.FaultOrEcho(async (reader, writer) =>
            {
                var signals = Volatile.Read(ref round);
                try
                {
                    // The peer sends a tenth of this, then resets. (A reset may discard bytes the server has not yet
                    // received, so the peer waits until the read is under way.)
                    await reader.ReadExactlyAsync(50_000);
                    signals.Started.TrySetResult();
                    await reader.ReadExactlyAsync(1_000_000);
                    signals.Ended.TrySetResult(null);
                }
                catch (Exception ex)
                {
                    signals.Ended.TrySetResult(ex);
                }
            }),
            "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            for (var i = 0; i < Rounds; i++)
            {
                var signals = Volatile.Read(ref round);
                using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
                {
                    await RawPeer.SendFaultLineAsync(peer, cts.Token);
                    await ServerTestKit.SendAsync(peer, new byte[50_000], cts.Token);
                    await signals.Started.Task.WaitAsync(cts.Token);
                    await ServerTestKit.SendAsync(peer, new byte[50_000], cts.Token);
                    RawPeer.Reset(peer);
                }

                var error = await signals.Ended.Task.WaitAsync(cts.Token);
                Assert.IsType<IOException>(error, exactMatch: false);
                Assert.IsNotType<IncompleteReadException>(error);

                // asyncio's ConnectionResetError: the receive's ECONNRESET, carried as the IOException's cause.
                var cause = Assert.IsType<SocketException>(error!.InnerException);
                Assert.Equal(SocketError.ConnectionReset, cause.SocketErrorCode);
                await RawPeer.AssertServesAsync(server, cts.Token);
                Volatile.Write(ref round, new Round());
            }
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Reset_MidWrite_DrainThrowsIOExceptionAndQueueIsReleased()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var round = new Round();
        await using (var server = await StreamServer.StartAsync(
            RawPeer.FaultOrEcho(async (reader, writer) =>
            {
                var signals = Volatile.Read(ref round);
                var chunk = new byte[64 * 1024];
                try
                {
                    // 64 MiB, far more than the peer reads before it resets.
                    for (var i = 0; i < 1024; i++)
                    {
                        writer.Write(chunk);
                        await writer.DrainAsync();
                    }

                    signals.QueuedAtEnd = writer.WriteBufferSize;
                    signals.Ended.TrySetResult(null);
                }
                catch (Exception ex)
                {
                    // After the loss, writes are dropped silently and the queue has been released.
                    writer.Write(chunk);
                    signals.QueuedAtEnd = writer.WriteBufferSize;
                    signals.Ended.TrySetResult(ex);
                }
            }),
            "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            for (var i = 0; i < Rounds; i++)
            {
                var signals = Volatile.Read(ref round);
                using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
                {
                    await RawPeer.SendFaultLineAsync(peer, cts.Token);
                    await ServerTestKit.ReceiveExactlyAsync(peer, 200_000, cts.Token);
                    RawPeer.Reset(peer);
                }

                Assert.IsType<IOException>(await signals.Ended.Task.WaitAsync(cts.Token));
                Assert.Equal(0, signals.QueuedAtEnd);
                await RawPeer.AssertServesAsync(server, cts.Token);
                Volatile.Write(ref round, new Round());
            }
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task HalfClose_PeerShutsDownSending_ServerReadsToEofThenRepliesInFull()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var request = ConnectionTestKit.Payload(300_000, seed: 7);
        var reply = ConnectionTestKit.Payload(2_000_000, seed: 8);
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                // asyncio's half-close: EOF ends the reading direction only; the writer goes on.
                var all = await reader.ReadAsync(-1);
                Assert.True(reader.AtEof);
                writer.Write(SHA256.HashData(all));
                writer.Write(reply);
                await writer.DrainAsync();
                await writer.DisposeAsync();
            },
            "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            await ServerTestKit.SendAsync(peer, request, cts.Token);
            peer.Shutdown(SocketShutdown.Send);

            var received = await ServerTestKit.ReceiveToEndAsync(peer, cts.Token);
            Assert.Equal(SHA256.HashData(request), received[..32]);
            Assert.Equal(reply, received[32..]);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task HalfClose_ServerWritesEof_PeerKeepsSendingAndServerReadsEverything()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var upload = ConnectionTestKit.Payload(1_000_000, seed: 9);
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                writer.Write("go\n"u8);
                writer.WriteEof();
                Assert.Throws<InvalidOperationException>(() => writer.Write("late"u8));
                received.TrySetResult(await reader.ReadAsync(-1));
            },
            "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            Assert.Equal("go\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(peer, cts.Token));
            await ServerTestKit.SendAsync(peer, upload, cts.Token);
            peer.Shutdown(SocketShutdown.Send);

            Assert.Equal(upload, await received.Task.WaitAsync(cts.Token));
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task ClientVanishes_WithBytesQueuedForIt_ConnectionEndsAndQueueIsReleased()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var round = new Round();
        await using (var server = await StreamServer.StartAsync(
            RawPeer.FaultOrEcho(async (reader, writer) =>
            {
                var signals = Volatile.Read(ref round);

                // Write never blocks: 8 MiB sit in the queue, far beyond what the kernel buffers hold.
                var chunk = new byte[64 * 1024];
                for (var i = 0; i < 128; i++)
                {
                    writer.Write(chunk);
                }

                signals.QueuedAtStart = writer.WriteBufferSize;
                signals.Started.TrySetResult();
                await writer.WaitClosedAsync();
                signals.QueuedAtEnd = writer.WriteBufferSize;
                signals.Ended.TrySetResult(null);
            }),
            "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            for (var i = 0; i < Rounds; i++)
            {
                var signals = Volatile.Read(ref round);
                using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
                {
                    RawPeer.ShrinkBuffers(peer);
                    await RawPeer.SendFaultLineAsync(peer, cts.Token);
                    await ServerTestKit.SendAsync(peer, "some request bytes the server never reads"u8.ToArray(), cts.Token);
                    await signals.Started.Task.WaitAsync(cts.Token);
                    Assert.True(signals.QueuedAtStart > 1_000_000);

                    // Closing with unread bytes in its receive buffer makes the kernel send RST, as when a process dies.
                }

                await signals.Ended.Task.WaitAsync(cts.Token);
                Assert.Equal(0, signals.QueuedAtEnd);
                await RawPeer.AssertServesAsync(server, cts.Token);
                Volatile.Write(ref round, new Round());
            }
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task PeerNeverReads_WriterQueueStaysWithinHighWaterMarkPlusOneWrite()
    {
        const int High = 64 * 1024;
        const int Low = 16 * 1024;
        const int WriteSize = 8 * 1024;
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var blocked = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<(Exception? Error, long MaxQueued, long Written)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new StreamServerOptions { WriteHighWaterMark = High, WriteLowWaterMark = Low };
        await using (var server = await StreamServer.StartAsync(
            RawPeer.FaultOrEcho(async (reader, writer) =>
            {
                var chunk = new byte[WriteSize];
                long maxQueued = 0;
                long written = 0;
                try
                {
                    // The writer that does what asyncio asks: write, then drain. It must be held up, not buffer without bound.
                    for (var i = 0; i < 100_000; i++)
                    {
                        writer.Write(chunk);
                        written += chunk.Length;
                        maxQueued = Math.Max(maxQueued, writer.WriteBufferSize);
                        var drain = writer.DrainAsync();
                        if (!drain.IsCompleted)
                        {
                            blocked.TrySetResult(writer.WriteBufferSize);
                        }

                        await drain;
                    }

                    outcome.TrySetResult((null, maxQueued, written));
                }
                catch (Exception ex)
                {
                    outcome.TrySetResult((ex, maxQueued, written));
                }
            }),
            "127.0.0.1", 0, options, cts.Token))
        {
            using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
            {
                RawPeer.ShrinkBuffers(peer);
                await RawPeer.SendFaultLineAsync(peer, cts.Token);
                var queuedWhenBlocked = await blocked.Task.WaitAsync(cts.Token);
                Assert.InRange(queuedWhenBlocked, High + 1, High + WriteSize);
                RawPeer.Reset(peer);
            }

            var (error, maxQueued, written) = await outcome.Task.WaitAsync(cts.Token);
            Assert.IsType<IOException>(error);
            Assert.InRange(maxQueued, 0, High + WriteSize);

            // Far less than the loop would have written: the drain held it while the peer read nothing.
            Assert.True(written < 100_000L * WriteSize / 10, $"{written} bytes written before the reset");
            await RawPeer.AssertServesAsync(server, cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    /// <summary>What one round's faulty connection reports to the test.</summary>
    private sealed class Round
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<Exception?> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long QueuedAtStart { get; set; }

        public long QueuedAtEnd { get; set; }
    }
}
