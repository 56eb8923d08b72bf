using System.Net.Sockets;

namespace AsyncStreams.Tests;

/// <summary>
/// Shutting a server down while it works: Close with callbacks running, CloseClients, AbortClients, WaitClosedAsync
/// with callbacks that never return or handshakes in progress, and disposing twice.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultShutdownTests
{
    [Fact]
    public async Task Close_WithCallbacksRunning_LiveConnectionsGoOnAndNewOnesAreRefused()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        var endPoint = ServerTestKit.Loopback(server);
        var clients = new List<(StreamReader Reader, StreamWriter Writer)>();
        for (var i = 0; i < 5; i++)
        {
            var client = await Streams.OpenConnectionAsync("127.0.0.1", endPoint.Port, cancellationToken: cts.Token);
            client.Writer.Write("before\n"u8);
            Assert.Equal("before\n"u8.ToArray(), await client.Reader.ReadLineAsync(cts.Token));
            clients.Add(client);
        }

        server.Close();

        Assert.False(server.IsServing);
        Assert.Empty(server.EndPoints);
        var refused = await Assert.ThrowsAsync<SocketException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", endPoint.Port, cancellationToken: cts.Token));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        // The five callbacks are still running: they keep serving, and the server is not closed until they end.
        foreach (var (reader, writer) in clients)
        {
            writer.Write("after\n"u8);
            Assert.Equal("after\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        }

        Assert.False(server.WaitClosedAsync().IsCompleted);
        foreach (var (_, writer) in clients)
        {
            await writer.DisposeAsync();
        }

        await server.WaitClosedAsync().WaitAsync(cts.Token);
        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task CloseClients_BytesQueued_SentInFullBeforeFin()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var reply = ConnectionTestKit.Payload(4_000_000, seed: 21);
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readEnded = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                writer.Write(reply);
                queued.TrySetResult();
                readEnded.TrySetResult(await reader.ReadAsync(-1));
            },
            "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            await queued.Task.WaitAsync(cts.Token);

            server.CloseClients();

            Assert.Equal(reply, await ServerTestKit.ReceiveToEndAsync(peer, cts.Token));
            Assert.Empty(await readEnded.Task.WaitAsync(cts.Token));
            // The server itself keeps listening: a new connection is served.
            Assert.True(server.IsServing);
            using var next = await RawPeer.ConnectAsync(server, cts.Token);
            Assert.Equal(reply[..1000], await ServerTestKit.ReceiveExactlyAsync(next, 1000, cts.Token));
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task AbortClients_BytesQueued_DroppedAtOnceAndPeersSeeReset()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var queued = new TaskCompletionSource<StreamWriter>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                var chunk = new byte[64 * 1024];
                for (var i = 0; i < 128; i++)
                {
                    writer.Write(chunk);
                }

                queued.TrySetResult(writer);
                await reader.ReadAsync(-1);
            },
            "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            RawPeer.ShrinkBuffers(peer);
            var writer = await queued.Task.WaitAsync(cts.Token);
            Assert.True(writer.WriteBufferSize > 0);

            server.AbortClients();

            // asyncio's abort() clears the buffer at once: nothing of it will ever be sent.
            Assert.Equal(0, writer.WriteBufferSize);
            Assert.True(writer.IsClosing);
            Assert.Equal(SocketError.ConnectionReset, await ServerTestKit.ReceiveUntilClosedAsync(peer, cts.Token));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task WaitClosedAsync_CallbacksThatNeverReturnAndHandshakesInProgress_CompletesOnceSocketsAreClosed()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var entered = 0;
        var allEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var never = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var plain = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                if (Interlocked.Increment(ref entered) == 3)
                {
                    allEntered.TrySetResult();
                }

                // Ignores the reader, the writer and the close: returns only when the test ends.
                await Task.Delay(Timeout.Infinite, never.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        var tls = await StreamServer.StartAsync(
            (reader, writer) => Task.CompletedTask,
            "127.0.0.1", 0, new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() }, cts.Token);
        var peers = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                peers.Add(await RawPeer.ConnectAsync(plain, cts.Token));
                peers.Add(await RawPeer.ConnectAsync(tls, cts.Token));
            }

            await allEntered.Task.WaitAsync(cts.Token);
            foreach (var server in new[] { plain, tls })
            {
                server.Close();
                server.CloseClients();
                await server.WaitClosedAsync().WaitAsync(cts.Token);
            }

            Assert.All(
                await Task.WhenAll(peers.Select(p => ServerTestKit.ReceiveUntilClosedAsync(p, cts.Token))),
                how => Assert.True(how is SocketError.Success or SocketError.ConnectionReset, how.ToString()));
        }
        finally
        {
            await never.CancelAsync();
            peers.ForEach(p => p.Dispose());
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Dispose_Twice_IsHarmless()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
        writer.Write("hello\n"u8);
        Assert.Equal("hello\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));

        await writer.DisposeAsync();
        await writer.DisposeAsync();
        writer.Close();
        await writer.WaitClosedAsync().WaitAsync(cts.Token);
        Assert.True(writer.IsClosing);

        await server.DisposeAsync();
        await server.DisposeAsync();
        server.Close();
        server.CloseClients();
        server.AbortClients();
        await server.WaitClosedAsync().WaitAsync(cts.Token);
        Assert.False(server.IsServing);

        await guard.AssertCleanAsync();
    }
}
