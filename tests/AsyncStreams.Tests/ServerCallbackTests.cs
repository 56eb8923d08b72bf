using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Tests;

public class ServerCallbackTests
{
    private const int CallbackFailedEventId = 9;

    [Fact]
    public async Task StartAsync_CallbackThrowsAfterAwait_LoggedAtErrorConnectionClosedServerGoesOn()
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                var line = await reader.ReadLineAsync();
                if (line.AsSpan().SequenceEqual("boom\n"u8))
                {
                    writer.Write("partial\n"u8);
                    throw new InvalidOperationException("callback failure");
                }

                writer.Write(line);
                await writer.DrainAsync();
            },
            "127.0.0.1", 0, new StreamServerOptions { LoggerFactory = log }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using (var failing = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token))
        {
            await ServerTestKit.SendAsync(failing, "boom\n", cts.Token);

            // The connection is closed as asyncio closes it: what the callback queued is still sent, then EOF.
            Assert.Equal("partial\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(failing, cts.Token));
        }

        var entry = await log.WaitForAsync(e => e.EventId.Id == CallbackFailedEventId, cts.Token);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal("AsyncStreams.StreamServer", entry.Category);
        Assert.Equal("callback failure", Assert.IsType<InvalidOperationException>(entry.Exception).Message);

        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
        writer.Write("still serving\n"u8);
        Assert.Equal("still serving\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        await writer.DisposeAsync();
        Assert.True(server.IsServing);
    }

    [Fact]
    public async Task StartAsync_CallbackThrowsSynchronously_ConnectionClosedServerGoesOn()
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();
        var calls = 0;
        var server = await StreamServer.StartAsync(
            (reader, writer) =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new FormatException("thrown before any task exists");
                }

                return ServerTestKit.EchoLinesAsync(reader, writer);
            },
            "127.0.0.1", 0, new StreamServerOptions { LoggerFactory = log }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using (var first = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token))
        {
            Assert.Equal(SocketError.Success, await ServerTestKit.ReceiveUntilClosedAsync(first, cts.Token));
        }

        var entry = await log.WaitForAsync(e => e.EventId.Id == CallbackFailedEventId, cts.Token);
        Assert.IsType<FormatException>(entry.Exception);

        using var second = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await ServerTestKit.SendAsync(second, "ok\n", cts.Token);
        Assert.Equal("ok\n"u8.ToArray(), await ServerTestKit.ReceiveExactlyAsync(second, 3, cts.Token));
    }

    [Fact]
    public async Task StartAsync_CallbackStillRunningAfterPeerLeft_DoesNotKeepWaitClosedPending()
    {
        using var cts = ServerTestKit.Timeout();
        var never = new TaskCompletionSource();
        var sawEof = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                await reader.ReadAsync(-1);
                writer.Close();
                sawEof.TrySetResult();

                // The socket is closed; a callback that goes on waiting for something else must not count as a
                // live connection (asyncio tracks transports, not handler tasks).
                await never.Task;
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);

        using (var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token))
        {
            client.Shutdown(SocketShutdown.Send);
            Assert.Empty(await ServerTestKit.ReceiveToEndAsync(client, cts.Token));
        }

        await sawEof.Task.WaitAsync(cts.Token);
        await server.DisposeAsync().AsTask().WaitAsync(cts.Token);
        never.SetResult();
    }
}
