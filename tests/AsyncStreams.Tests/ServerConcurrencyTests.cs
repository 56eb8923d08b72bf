using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace AsyncStreams.Tests;

public class ServerConcurrencyTests
{
    private const int Clients = 100;

    [Fact]
    public async Task StartAsync_HundredConcurrentClients_EveryPayloadEchoedWithMatchingChecksum()
    {
        using var cts = ServerTestKit.Timeout(60);
        var served = 0;
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                // One frame per connection: a length, the payload; the reply is the server's SHA-256 of what it
                // read followed by the payload itself.
                var length = BitConverter.ToInt32(await reader.ReadExactlyAsync(4));
                var payload = await reader.ReadExactlyAsync(length);
                writer.Write(SHA256.HashData(payload));
                writer.Write(payload);
                await writer.DrainAsync();
                Interlocked.Increment(ref served);
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        var port = ServerTestKit.Port(server);

        var clients = Enumerable.Range(0, Clients).Select(async i =>
        {
            var payload = new byte[1000 + (i * 997 % 120_000)];
            new Random(i).NextBytes(payload);
            var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: cts.Token);
            writer.Write(BitConverter.GetBytes(payload.Length));
            writer.Write(payload);
            await writer.DrainAsync(cts.Token);

            var hash = await reader.ReadExactlyAsync(32, cts.Token);
            var echoed = await reader.ReadExactlyAsync(payload.Length, cts.Token);
            Assert.Equal(SHA256.HashData(payload), hash);
            Assert.Equal(SHA256.HashData(payload), SHA256.HashData(echoed));

            // The server closes once its callback returns.
            Assert.Empty(await reader.ReadAsync(-1, cts.Token));
            await writer.DisposeAsync();
        });
        await Task.WhenAll(clients);

        Assert.Equal(Clients, Volatile.Read(ref served));
        server.Close();
        await server.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task StartAsync_SlowCallbackBlockingItsThread_DoesNotHoldUpAccepting()
    {
        using var cts = ServerTestKit.Timeout();
        using var release = new ManualResetEventSlim();
        using var blocked = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blocked.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var blockedPort = ((IPEndPoint)blocked.LocalEndPoint!).Port;
        var server = await StreamServer.StartAsync(
            (reader, writer) =>
            {
                if (writer.RemoteEndPoint is IPEndPoint peer && peer.Port == blockedPort)
                {
                    // Blocks its thread before any await: if the server ran callbacks inline on its accept loop,
                    // no other connection would be served until the release.
                    release.Wait(cts.Token);
                }

                return ServerTestKit.EchoLinesAsync(reader, writer);
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        try
        {
            await blocked.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
            var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
            writer.Write("served\n"u8);
            Assert.Equal("served\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();
        }
        finally
        {
            release.Set();
        }
    }
}
