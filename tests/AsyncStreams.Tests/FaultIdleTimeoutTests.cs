using System.Diagnostics;
using System.Net.Sockets;

namespace AsyncStreams.Tests;

/// <summary>
/// <see cref="StreamServerOptions.IdleTimeout"/>: a connection with no byte received or sent for that long is closed;
/// traffic in either direction keeps it open, and so does a pause that the application causes by not reading.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultIdleTimeoutTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task IdleTimeout_SilentPeer_ReaderFailsWithTimeoutAndPeerSeesFin()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var seen = new TaskCompletionSource<(Exception? Read, Exception? Drain)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                var read = await Record.ExceptionAsync(async () => await reader.ReadLineAsync(cts.Token));
                var drain = await Record.ExceptionAsync(async () => await writer.DrainAsync(cts.Token));
                seen.TrySetResult((read, drain));
            },
            "127.0.0.1", 0, new StreamServerOptions { IdleTimeout = Idle }, cts.Token))
        {
            // Timed from before the connection exists, so the server's idle clock cannot start earlier: a test
            // thread that resumes late after connecting would otherwise see a shorter wait than the server kept.
            var connecting = Stopwatch.StartNew();
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);

            Assert.Equal(SocketError.Success, await ServerTestKit.ReceiveUntilClosedAsync(peer, cts.Token));
            Assert.True(connecting.Elapsed >= Idle - TimeSpan.FromMilliseconds(20), $"closed after {connecting.Elapsed}");
            var (read, drain) = await seen.Task.WaitAsync(cts.Token);
            Assert.IsType<TimeoutException>(Assert.IsType<IOException>(read).InnerException);
            Assert.IsType<TimeoutException>(Assert.IsType<IOException>(drain).InnerException);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task IdleTimeout_TrafficKeepsFlowing_ConnectionStaysOpenUntilItStops()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                try
                {
                    await ServerTestKit.EchoLinesAsync(reader, writer);
                }
                catch (IOException ex) when (ex.InnerException is TimeoutException)
                {
                    // The expected end of this connection, once the client stops talking.
                }
            },
            "127.0.0.1", 0, new StreamServerOptions { IdleTimeout = Idle }, cts.Token))
        {
            var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
            await using (writer)
            {
                // Four timeouts' worth of back-to-back lines: the connection is never idle, so it stays open.
                var busy = Stopwatch.StartNew();
                for (var i = 0; busy.Elapsed < 4 * Idle && i < 10_000_000; i++)
                {
                    writer.Write("ping\n"u8);
                    Assert.Equal("ping\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
                }

                // Silence: the server closes it, and the reader sees the end of the stream.
                Assert.Empty(await reader.ReadLineAsync(cts.Token));
            }
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task IdleTimeout_PeerNeverReads_ConnectionResetAndQueueReleased()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var outcome = new TaskCompletionSource<(Exception Error, long Queued)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                var chunk = new byte[64 * 1024];
                try
                {
                    for (var i = 0; i < 100_000; i++)
                    {
                        writer.Write(chunk);
                        await writer.DrainAsync();
                    }
                }
                catch (Exception ex)
                {
                    outcome.TrySetResult((ex, writer.WriteBufferSize));
                }
            },
            "127.0.0.1", 0, new StreamServerOptions { IdleTimeout = Idle }, cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            RawPeer.ShrinkBuffers(peer);

            var (error, queued) = await outcome.Task.WaitAsync(cts.Token);
            Assert.IsType<TimeoutException>(Assert.IsType<IOException>(error).InnerException);
            Assert.Equal(0, queued);

            // Bytes stayed queued for the whole timeout, so a graceful close could never finish: the server resets.
            Assert.Equal(SocketError.ConnectionReset, await ServerTestKit.ReceiveUntilClosedAsync(peer, cts.Token));
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task IdleTimeout_ApplicationNotReading_PausedReceivingIsNotIdle()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var upload = ConnectionTestKit.Payload(256 * 1024, seed: 11);
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new StreamServerOptions { IdleTimeout = Idle, Limit = 1024 };
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                try
                {
                    // Busy elsewhere for four timeouts: receiving pauses after 2 x Limit bytes, and the peer waits on us.
                    await Task.Delay(4 * Idle, cts.Token);
                    received.TrySetResult(await reader.ReadExactlyAsync(upload.Length));
                }
                catch (Exception ex)
                {
                    received.TrySetException(ex);
                }
            },
            "127.0.0.1", 0, options, cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            await ServerTestKit.SendAsync(peer, upload, cts.Token);

            Assert.Equal(upload, await received.Task.WaitAsync(cts.Token));
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task IdleTimeout_CloseClientsWhilePeerNeverReads_WaitClosedCompletes()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                var chunk = new byte[64 * 1024];
                for (var i = 0; i < 128; i++)
                {
                    writer.Write(chunk);
                }

                queued.TrySetResult();
                await reader.ReadAsync(-1);
            },
            "127.0.0.1", 0, new StreamServerOptions { IdleTimeout = Idle }, cts.Token);
        using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
        {
            RawPeer.ShrinkBuffers(peer);
            await queued.Task.WaitAsync(cts.Token);

            // A graceful close waits to send the queue first, which this peer never lets happen; the idle timeout
            // resets the connection instead, so the server's wait ends.
            server.Close();
            server.CloseClients();
            await server.WaitClosedAsync().WaitAsync(cts.Token);
        }

        await guard.AssertCleanAsync();
    }
}
