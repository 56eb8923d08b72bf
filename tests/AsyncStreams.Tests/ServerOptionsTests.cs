using System.Net.Sockets;

namespace AsyncStreams.Tests;

public class ServerOptionsTests
{
    [Fact]
    public async Task StartAsync_LimitOption_ReachesEveryConnectionsReader()
    {
        using var cts = ServerTestKit.Timeout();
        var result = new TaskCompletionSource<(int Limit, Exception? Overrun)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                try
                {
                    await reader.ReadLineAsync();
                    result.TrySetResult((reader.Limit, null));
                }
                catch (LimitOverrunException ex)
                {
                    result.TrySetResult((reader.Limit, ex));
                }
            },
            "127.0.0.1", 0, new StreamServerOptions { Limit = 100 }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await ServerTestKit.SendAsync(client, new string('x', 500) + "\n", cts.Token);

        var (limit, overrun) = await result.Task.WaitAsync(cts.Token);
        Assert.Equal(100, limit);
        Assert.IsType<LimitOverrunException>(overrun);
    }

    [Fact]
    public async Task StartAsync_InvalidArguments_ThrowTypedExceptions()
    {
        Func<StreamReader, StreamWriter, Task> callback = ServerTestKit.EchoLinesAsync;
        var ct = TestContext.Current.CancellationToken;
        await Assert.ThrowsAsync<ArgumentNullException>(() => StreamServer.StartAsync(null!, "127.0.0.1", 0, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StreamServer.StartAsync(callback, "127.0.0.1", -1, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StreamServer.StartAsync(callback, "127.0.0.1", 65536, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StreamServer.StartAsync(callback, "127.0.0.1", 0, new StreamServerOptions { Limit = 0 }, ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StreamServer.StartAsync(callback, "127.0.0.1", 0, new StreamServerOptions { Backlog = -1 }, ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StreamServer.StartAsync(callback, "127.0.0.1", 0, new StreamServerOptions { MaxConnections = -1 }, ct));
        await Assert.ThrowsAsync<ArgumentNullException>(() => StreamServer.StartUnixAsync(callback, null!, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentException>(() => StreamServer.StartUnixAsync(callback, "", cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentNullException>(() => StreamServer.StartAsync(callback, (Socket)null!, cancellationToken: ct));
    }

    [Fact]
    public async Task StartAsync_CancelledToken_ThrowsOperationCanceledAndBindsNothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cancelled.Token));
    }
}
