using System.Net.Sockets;

namespace AsyncStreams.Tests;

/// <summary>
/// Slowloris: 500 connections that send one byte and then stall. Each holds a callback waiting for the rest of its
/// line, yet other clients are served at once; with <see cref="StreamServerOptions.IdleTimeout"/> the stalled ones are
/// closed while the busy ones go on.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultSlowlorisTests
{
    // Soak runs stall ten times as many.
    private static readonly int Stalled = Soak.Pick(500, 5000);
    private const int Served = 20;

    [Fact]
    public async Task Slowloris_500StalledConnections_OtherClientsStillServedPromptly()
    {
        RequireDescriptors();
        using var cts = Soak.Bound(60);
        var guard = await LeakGuard.StartAsync();
        var entered = 0;
        var allEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                if (Interlocked.Increment(ref entered) == Stalled)
                {
                    allEntered.TrySetResult();
                }

                await ServerTestKit.EchoLinesAsync(reader, writer);
            },
            "127.0.0.1", 0, new StreamServerOptions { Backlog = 1024 }, cts.Token))
        {
            var stalled = await StallAsync(server, cts.Token);
            try
            {
                // Every stalled connection is being served (its callback waits for the end of its line) ...
                await allEntered.Task.WaitAsync(cts.Token);

                // ... and the others are still answered at once: each of them, ten lines, within a few seconds.
                using var prompt = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                prompt.CancelAfter(TimeSpan.FromSeconds(Soak.Pick(10, 60)));
                await Task.WhenAll(Enumerable.Range(0, Served).Select(i => EchoLinesAsync(server, i, 10, prompt.Token)));
            }
            finally
            {
                foreach (var socket in stalled)
                {
                    socket.Dispose();
                }
            }
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Slowloris_WithIdleTimeout_StalledConnectionsClosedWhileBusyOnesGoOn()
    {
        RequireDescriptors();
        using var cts = Soak.Bound(60);
        var guard = await LeakGuard.StartAsync();
        var timedOut = 0;
        var options = new StreamServerOptions { Backlog = 1024, IdleTimeout = TimeSpan.FromSeconds(1) };
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                try
                {
                    await ServerTestKit.EchoLinesAsync(reader, writer);
                }
                catch (IOException ex) when (ex.InnerException is TimeoutException)
                {
                    Interlocked.Increment(ref timedOut);
                }
            },
            "127.0.0.1", 0, options, cts.Token))
        {
            var stalled = await StallAsync(server, cts.Token);
            try
            {
                // Opened after the stalled ones, which can take longer than the timeout, and busy from its first moment.
                var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);

                // The server closes each stalled connection gracefully (nothing was queued for it): its peer sees FIN.
                var closings = stalled.Select(s => ServerTestKit.ReceiveUntilClosedAsync(s, cts.Token)).ToArray();
                var allClosed = Task.WhenAll(closings);

                // Meanwhile one client keeps its connection busy, line after line, without a pause.
                var lines = 0;
                while (!allClosed.IsCompleted && lines < 10_000_000)
                {
                    writer.Write("busy\n"u8);
                    Assert.Equal("busy\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
                    lines++;
                }

                Assert.All(await allClosed, how => Assert.Equal(SocketError.Success, how));
                Assert.Equal(Stalled, Volatile.Read(ref timedOut));

                writer.Write("still open\n"u8);
                Assert.Equal("still open\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
                await writer.DisposeAsync();
            }
            finally
            {
                foreach (var socket in stalled)
                {
                    socket.Dispose();
                }
            }
        }

        await guard.AssertCleanAsync();
    }

    private static void RequireDescriptors()
    {
        if (FileDescriptors.EnsureAtLeast((2 * Stalled) + 512) is { } reason)
        {
            Assert.Skip($"{Stalled} stalled connections need both of their ends in this process: {reason}.");
        }
    }

    /// <summary>Opens the stalled connections: each sends one byte of a line, then nothing.</summary>
    private static async Task<Socket[]> StallAsync(StreamServer server, CancellationToken cancellationToken)
    {
        var sockets = new List<Socket>(Stalled);
        try
        {
            // In batches, so that the backlog never overflows into SYN retransmissions.
            for (var batch = 0; batch < Stalled; batch += 100)
            {
                var connected = await Task.WhenAll(Enumerable.Range(batch, 100).Select(async _ =>
                {
                    var socket = await RawPeer.ConnectAsync(server, cancellationToken);
                    await ServerTestKit.SendAsync(socket, "G"u8.ToArray(), cancellationToken);
                    return socket;
                }));
                sockets.AddRange(connected);
            }

            return [.. sockets];
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }
    }

    private static async Task EchoLinesAsync(StreamServer server, int client, int count, CancellationToken cancellationToken)
    {
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cancellationToken);
        await using (writer)
        {
            for (var i = 0; i < count; i++)
            {
                var line = ConnectionTestKit.Ascii($"client {client} line {i}\n");
                writer.Write(line);
                Assert.Equal(line, await reader.ReadLineAsync(cancellationToken));
            }
        }
    }
}
