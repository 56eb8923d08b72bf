using System.Net.Sockets;
using System.Text;

namespace AsyncStreams.Tests;

public class ServerEchoTests
{
    [Fact]
    public async Task StartAsync_OurClient_EchoesLines()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
        for (var i = 0; i < 10; i++)
        {
            writer.Write(Encoding.UTF8.GetBytes($"line {i}\n"));
            await writer.DrainAsync(cts.Token);
            Assert.Equal($"line {i}\n", Encoding.UTF8.GetString(await reader.ReadLineAsync(cts.Token)));
        }

        writer.WriteEof();
        Assert.Empty(await reader.ReadAsync(-1, cts.Token));
        writer.Close();
        await writer.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task StartAsync_RawSocketClient_EchoesLinesAndClosesOnEof()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await ServerTestKit.SendAsync(client, "alpha\nbeta\ngam", cts.Token);
        await ServerTestKit.SendAsync(client, "ma\n", cts.Token);
        client.Shutdown(SocketShutdown.Send);

        var echoed = await ServerTestKit.ReceiveToEndAsync(client, cts.Token);
        Assert.Equal("alpha\nbeta\ngamma\n", Encoding.UTF8.GetString(echoed));
    }

    [Fact]
    public async Task StartAsync_CallbackReturnsWithoutClosing_QueuedBytesSentThenClosed()
    {
        using var cts = ServerTestKit.Timeout();
        var payload = new byte[1024 * 1024];
        Random.Shared.NextBytes(payload);
        var server = await StreamServer.StartAsync(
            (reader, writer) =>
            {
                // Writes a megabyte without draining and returns: the server must send it all before closing.
                writer.Write(payload);
                return Task.CompletedTask;
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        var received = await ServerTestKit.ReceiveToEndAsync(client, cts.Token);
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task StartAsync_BinaryExactReads_RoundTripThroughOurClient()
    {
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                // Length-prefixed frames, echoed back reversed, until a zero length.
                while (true)
                {
                    var header = await reader.ReadExactlyAsync(4);
                    var length = BitConverter.ToInt32(header);
                    if (length == 0)
                    {
                        break;
                    }

                    var body = await reader.ReadExactlyAsync(length);
                    Array.Reverse(body);
                    writer.Write(header);
                    writer.Write(body);
                    await writer.DrainAsync();
                }
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
        foreach (var size in new[] { 1, 100, 70_000, 300_000 })
        {
            var body = new byte[size];
            Random.Shared.NextBytes(body);
            writer.Write(BitConverter.GetBytes(size));
            writer.Write(body);
            await writer.DrainAsync(cts.Token);

            Assert.Equal(size, BitConverter.ToInt32(await reader.ReadExactlyAsync(4, cts.Token)));
            var echoed = await reader.ReadExactlyAsync(size, cts.Token);
            Array.Reverse(body);
            Assert.Equal(body, echoed);
        }

        writer.Write(BitConverter.GetBytes(0));
        Assert.Empty(await reader.ReadAsync(-1, cts.Token));
        await writer.DisposeAsync();
    }
}
