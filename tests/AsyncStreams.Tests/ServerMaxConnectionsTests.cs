using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Tests;

public class ServerMaxConnectionsTests
{
    private const int ConnectionOverLimitEventId = 7;
    private const string ActiveConnections = "asyncstreams.server.active_connections";

    [Fact]
    public async Task StartAsync_OverMaxConnections_ClosedAtOnceWithoutCallbackAndLogged()
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();
        using var meters = new TestMeterFactory();
        using var metrics = new MetricsRecorder(meters);
        var calls = 0;
        var twoServed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StreamServer.StartAsync(
            (reader, writer) =>
            {
                if (Interlocked.Increment(ref calls) == 2)
                {
                    twoServed.TrySetResult();
                }

                return ServerTestKit.EchoLinesAsync(reader, writer);
            },
            "127.0.0.1", 0, new StreamServerOptions { MaxConnections = 2, LoggerFactory = log, MeterFactory = meters }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        var endPoint = ServerTestKit.Loopback(server);

        using var first = await ServerTestKit.ConnectAsync(endPoint, cts.Token);
        using var second = await ServerTestKit.ConnectAsync(endPoint, cts.Token);
        await twoServed.Task.WaitAsync(cts.Token);

        using (var third = await ServerTestKit.ConnectAsync(endPoint, cts.Token))
        {
            // Accepted by the kernel, then closed by the server without reaching the callback.
            var ended = await ServerTestKit.ReceiveUntilClosedAsync(third, cts.Token);
            Assert.True(ended is SocketError.Success or SocketError.ConnectionReset, ended.ToString());
        }

        var entry = await log.WaitForAsync(e => e.EventId.Id == ConnectionOverLimitEventId, cts.Token);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(2, Volatile.Read(ref calls));

        // The two served connections are unaffected.
        await ServerTestKit.SendAsync(first, "one\n", cts.Token);
        Assert.Equal("one\n"u8.ToArray(), await ServerTestKit.ReceiveExactlyAsync(first, 4, cts.Token));

        // Once one of them ends, there is room again. The server learns of the end asynchronously (the peer sees
        // the FIN first): it counts the connection as ended (active connections -1) at the moment it makes room.
        second.Shutdown(SocketShutdown.Send);
        Assert.Empty(await ServerTestKit.ReceiveToEndAsync(second, cts.Token));
        await metrics.WaitForAsync(m => m.Instrument == ActiveConnections && m.Value < 0, cts.Token);

        using var next = await ServerTestKit.ConnectAsync(endPoint, cts.Token);
        await ServerTestKit.SendAsync(next, "again\n", cts.Token);
        Assert.Equal("again\n"u8.ToArray(), await ServerTestKit.ReceiveExactlyAsync(next, 6, cts.Token));
        Assert.Equal(3, Volatile.Read(ref calls));
    }
}
