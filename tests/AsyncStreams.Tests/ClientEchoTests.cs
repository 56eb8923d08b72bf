using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class ClientEchoTests
{
    [Fact]
    public async Task OpenConnectionAsync_EchoPeer_RoundTripsLines()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            Task echo = EchoAsync(peer, cts.Token);
            for (int i = 0; i < 100; i++)
            {
                byte[] line = Ascii($"line {i} {new string('x', i * 10)}\n");
                writer.Write(line);
                await writer.DrainAsync(cts.Token);
                Assert.Equal(line, await reader.ReadLineAsync(cts.Token));
            }

            writer.Close();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            await echo.WaitAsync(cts.Token);
        }

        Assert.True(writer.IsClosing);
    }

    [Fact]
    public async Task Write_WithoutDrain_DeliversEveryByte()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            byte[] payload = Payload(3 * 1024 * 1024);
            for (int offset = 0; offset < payload.Length; offset += 1000)
            {
                writer.Write(payload.AsSpan(offset, Math.Min(1000, payload.Length - offset)));
            }

            writer.Close();
            byte[] received = await ReceiveToEndAsync(peer, cts.Token);
            Assert.Equal(payload, received);
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }

    [Fact]
    public async Task ReadAsync_PeerSendsLargePayload_ReaderGetsEveryByte()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, new ConnectionOptions { Limit = 1024 }, cts.Token);
        using (peer)
        {
            byte[] payload = Payload(2 * 1024 * 1024, seed: 7);
            Task send = Task.Run(async () =>
            {
                await peer.SendAsync(payload, SocketFlags.None, cts.Token);
                peer.Shutdown(SocketShutdown.Send);
            }, cts.Token);

            Assert.Equal(payload, await reader.ReadAsync(-1, cts.Token));
            Assert.True(reader.AtEof);
            await send;
            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task OpenConnectionAsync_ManyConcurrentClients_EchoChecksummedPayloads()
    {
        const int Clients = 24;
        using var cts = Bounded();
        using Socket listener = Listen(backlog: Clients);
        Task acceptAll = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (int i = 0; i < Clients; i++)
            {
                Socket peer = await listener.AcceptAsync(cts.Token);
                echoes.Add(Task.Run(async () =>
                {
                    using (peer)
                    {
                        await EchoAsync(peer, cts.Token);
                        peer.Shutdown(SocketShutdown.Send);
                    }
                }, cts.Token));
            }

            await Task.WhenAll(echoes);
        }, cts.Token);

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", listener.Port(), cancellationToken: cts.Token);
            for (int m = 0; m < 20; m++)
            {
                // Each message carries its own SHA-256, so corruption or reordering shows.
                byte[] body = Payload(1 + ((c * 7919 + m * 104729) % 20000), seed: c * 1000 + m);
                byte[] hash = System.Security.Cryptography.SHA256.HashData(body);
                writer.Write(BitConverter.GetBytes(body.Length));
                writer.Write(body);
                writer.Write(hash);
                await writer.DrainAsync(cts.Token);

                int length = BitConverter.ToInt32(await reader.ReadExactlyAsync(4, cts.Token));
                byte[] echoed = await reader.ReadExactlyAsync(length, cts.Token);
                Assert.Equal(await reader.ReadExactlyAsync(32, cts.Token), System.Security.Cryptography.SHA256.HashData(echoed));
                Assert.Equal(body, echoed);
            }

            writer.WriteEof();
            Assert.Empty(await reader.ReadAsync(-1, cts.Token));
            await writer.DisposeAsync();
        }, cts.Token)));
        await acceptAll;
    }

    private static async Task EchoAsync(Socket peer, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        while (true)
        {
            int n = await peer.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return;
            }

            await peer.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, cancellationToken);
        }
    }
}
