using System.Net.Sockets;
using System.Text;

namespace AsyncStreams.Tests;

public class ServerLifecycleTests
{
    [Fact]
    public async Task Close_WithLiveConnection_StopsListeningAndTheConnectionGoesOn()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        var endPoint = ServerTestKit.Loopback(server);
        using var live = await ServerTestKit.ConnectAsync(endPoint, cts.Token);
        await ServerTestKit.SendAsync(live, "before\n", cts.Token);
        Assert.Equal("before\n", Encoding.UTF8.GetString(await ServerTestKit.ReceiveExactlyAsync(live, 7, cts.Token)));

        server.Close();

        Assert.False(server.IsServing);
        Assert.Empty(server.EndPoints);
        var refused = await Assert.ThrowsAsync<SocketException>(() => ServerTestKit.ConnectAsync(endPoint, cts.Token));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        // The live connection is still served, and keeps WaitClosedAsync pending until it ends.
        var closed = server.WaitClosedAsync();
        await ServerTestKit.SendAsync(live, "after\n", cts.Token);
        Assert.Equal("after\n", Encoding.UTF8.GetString(await ServerTestKit.ReceiveExactlyAsync(live, 6, cts.Token)));
        Assert.False(closed.IsCompleted);

        live.Shutdown(SocketShutdown.Send);
        Assert.Empty(await ServerTestKit.ReceiveToEndAsync(live, cts.Token));
        await closed.WaitAsync(cts.Token);
    }

    [Fact]
    public async Task WaitClosedAsync_BeforeClose_WaitsForTheClose()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var closed = server.WaitClosedAsync();
        Assert.False(closed.IsCompleted);

        server.Close();
        await closed.WaitAsync(cts.Token);
        Assert.True(closed.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task CloseClients_LiveConnections_PeersSeeEofAfterQueuedBytes()
    {
        using var cts = ServerTestKit.Timeout();
        var ready = 0;
        var allReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                writer.Write("hello\n"u8);
                if (Interlocked.Increment(ref ready) == 3)
                {
                    allReady.TrySetResult();
                }

                // Waits for the peer; CloseClients ends the connection under it.
                await reader.ReadAsync(-1);
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var clients = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add(await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token));
        }

        await allReady.Task.WaitAsync(cts.Token);
        server.CloseClients();

        foreach (var client in clients)
        {
            Assert.Equal("hello\n", Encoding.UTF8.GetString(await ServerTestKit.ReceiveToEndAsync(client, cts.Token)));
            client.Dispose();
        }

        Assert.True(server.IsServing);
        server.Close();
        await server.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task AbortClients_LiveConnection_PeerSeesReset()
    {
        using var cts = ServerTestKit.Timeout();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                connected.TrySetResult();
                await reader.ReadAsync(-1);
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await connected.Task.WaitAsync(cts.Token);

        server.Close();
        var closed = server.WaitClosedAsync();
        server.AbortClients();

        Assert.Equal(SocketError.ConnectionReset, await ServerTestKit.ReceiveUntilClosedAsync(client, cts.Token));
        await closed.WaitAsync(cts.Token);
    }

    [Fact]
    public async Task StartServing_WhenStartedWithStartServingFalse_AcceptsOnlyFromThen()
    {
        using var cts = ServerTestKit.Timeout();
        var calls = 0;
        var server = await StreamServer.StartAsync(
            (reader, writer) =>
            {
                Interlocked.Increment(ref calls);
                return ServerTestKit.EchoLinesAsync(reader, writer);
            },
            "127.0.0.1", 0, new StreamServerOptions { StartServing = false }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        Assert.False(server.IsServing);
        Assert.Single(server.EndPoints);

        // The socket listens already: the connection waits in the backlog until the server starts serving.
        using var early = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await ServerTestKit.SendAsync(early, "early\n", cts.Token);
        Assert.Equal(0, Volatile.Read(ref calls));

        server.StartServing();
        server.StartServing();

        Assert.True(server.IsServing);
        Assert.Equal("early\n", Encoding.UTF8.GetString(await ServerTestKit.ReceiveExactlyAsync(early, 6, cts.Token)));
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task StartServing_AfterClose_ThrowsInvalidOperationException()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { StartServing = false }, cts.Token);
        server.Close();

        Assert.Throws<InvalidOperationException>(server.StartServing);
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.ServeForeverAsync(cts.Token));
        await server.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task ServeForeverAsync_Cancelled_ClosesTheServerAndThrowsOperationCanceled()
    {
        using var cts = ServerTestKit.Timeout();
        using var stop = new CancellationTokenSource();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { StartServing = false }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        var endPoint = ServerTestKit.Loopback(server);

        var forever = server.ServeForeverAsync(stop.Token);
        Assert.True(server.IsServing);
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.ServeForeverAsync(cts.Token));

        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", endPoint.Port, cancellationToken: cts.Token);
        writer.Write("served\n"u8);
        Assert.Equal("served\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        await writer.DisposeAsync();

        await stop.CancelAsync();
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => forever.WaitAsync(cts.Token));
        Assert.Equal(stop.Token, cancelled.CancellationToken);
        Assert.False(server.IsServing);
        await Assert.ThrowsAsync<SocketException>(() => ServerTestKit.ConnectAsync(endPoint, cts.Token));
        await server.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task ServeForeverAsync_ServerClosedElsewhere_Completes()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);

        var forever = server.ServeForeverAsync(cts.Token);
        Assert.False(forever.IsCompleted);
        server.Close();

        await forever.WaitAsync(cts.Token);
        Assert.True(forever.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task DisposeAsync_Twice_ClosesOnceAndIsHarmless()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        var endPoint = ServerTestKit.Loopback(server);

        await server.DisposeAsync().AsTask().WaitAsync(cts.Token);
        await server.DisposeAsync().AsTask().WaitAsync(cts.Token);
        server.Close();

        Assert.False(server.IsServing);
        Assert.True(server.WaitClosedAsync().IsCompletedSuccessfully);
        await Assert.ThrowsAsync<SocketException>(() => ServerTestKit.ConnectAsync(endPoint, cts.Token));
    }

    [Fact]
    public async Task DisposeAsync_WithLiveConnection_CompletesWhenTheConnectionEnds()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
        writer.Write("x\n"u8);
        Assert.Equal("x\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));

        var disposed = server.DisposeAsync().AsTask();
        Assert.False(disposed.IsCompleted);

        writer.WriteEof();
        Assert.Empty(await reader.ReadAsync(-1, cts.Token));
        await writer.DisposeAsync();
        await disposed.WaitAsync(cts.Token);
    }
}
