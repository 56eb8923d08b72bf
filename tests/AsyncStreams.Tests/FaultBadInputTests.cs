using System.Net.Sockets;

namespace AsyncStreams.Tests;

/// <summary>
/// Bad input from a real socket: lines and chunks beyond the limit, and binary garbage. The reader throws the typed
/// exception and keeps (or, for ReadLineAsync, drops exactly) what asyncio keeps or drops; a connection that sends
/// garbage ends, and the server goes on.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultBadInputTests
{
    private const int Limit = 1024;

    [Fact]
    public async Task ReadLine_OverLimitLineFromSocket_ThrowsLimitOverrunAndTheNextLineIsIntact()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var input = ConnectionTestKit.Ascii("first\n" + new string('x', Limit + 476) + "\nsecond\n");
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                // Every byte is in the reader before the first read, so the outcome does not depend on how TCP split them.
                await WaitForBufferedAsync(reader, input.Length, cts.Token);
                for (var i = 0; i < 10; i++)
                {
                    try
                    {
                        var line = await reader.ReadLineAsync();
                        if (line.Length == 0)
                        {
                            break;
                        }

                        writer.Write("line:"u8);
                        writer.Write(line);
                    }
                    catch (LimitOverrunException ex)
                    {
                        writer.Write(ConnectionTestKit.Ascii($"overrun:{ex.Consumed}\n"));
                    }
                }

                await writer.DisposeAsync();
            },
            "127.0.0.1", 0, new StreamServerOptions { Limit = Limit }, cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            await ServerTestKit.SendAsync(peer, input, cts.Token);
            peer.Shutdown(SocketShutdown.Send);

            // asyncio's readline: the over-long line is dropped through its separator, the next read starts after it.
            Assert.Equal(
                $"line:first\noverrun:{Limit + 476}\nline:second\n",
                System.Text.Encoding.ASCII.GetString(await ServerTestKit.ReceiveToEndAsync(peer, cts.Token)));
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task ReadUntil_ChunksBeyondLimitArrivingInPieces_NothingLostWhenConsumedIsRead()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var separator = "\r\n\r\n"u8.ToArray();
        var records = new List<byte[]>();
        var random = new Random(31);
        for (var i = 0; i < 40; i++)
        {
            // Short records and some of several times the limit, of every byte value but the separator's.
            var body = new byte[random.Next(3) == 0 ? random.Next(Limit, 5 * Limit) : random.Next(0, Limit / 2)];
            random.NextBytes(body);
            body.AsSpan().Replace((byte)'\r', (byte)'.');
            records.Add([.. body, .. separator]);
        }

        var input = records.SelectMany(r => r).ToArray();
        var overruns = 0;
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                // Whatever the reader returns, and whatever a LimitOverrunException tells it to consume, is echoed:
                // together they must be the input exactly.
                for (var i = 0; i < 100_000; i++)
                {
                    try
                    {
                        writer.Write(await reader.ReadUntilAsync(separator));
                    }
                    catch (LimitOverrunException ex)
                    {
                        Interlocked.Increment(ref overruns);
                        writer.Write(await reader.ReadExactlyAsync(ex.Consumed));
                    }
                    catch (IncompleteReadException ex)
                    {
                        writer.Write(ex.Partial);
                        break;
                    }

                    await writer.DrainAsync();
                }

                await writer.DisposeAsync();
            },
            "127.0.0.1", 0, new StreamServerOptions { Limit = Limit }, cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            var receiving = ServerTestKit.ReceiveToEndAsync(peer, cts.Token);
            for (var offset = 0; offset < input.Length;)
            {
                var piece = Math.Min(random.Next(1, 3000), input.Length - offset);
                await ServerTestKit.SendAsync(peer, input.AsMemory(offset, piece), cts.Token);
                offset += piece;
            }

            peer.Shutdown(SocketShutdown.Send);
            Assert.Equal(input, await receiving);
            Assert.True(Volatile.Read(ref overruns) > 0);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task BinaryLines_EveryByteValue_EchoedExactly()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var input = ConnectionTestKit.Payload(256 * 1024, seed: 41);
        var lastNewLine = Array.LastIndexOf(input, (byte)'\n');
        input = input[..(lastNewLine + 1)];
        await using (var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { Limit = 8 * Limit }, cts.Token))
        {
            using var peer = await RawPeer.ConnectAsync(server, cts.Token);
            var receiving = ServerTestKit.ReceiveToEndAsync(peer, cts.Token);
            await ServerTestKit.SendAsync(peer, input, cts.Token);
            peer.Shutdown(SocketShutdown.Send);

            Assert.Equal(input, await receiving);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task BinaryGarbage_NoNewLineBeyondLimit_ThatConnectionEndsAndOthersAreServed()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var garbage = ConnectionTestKit.Payload(1024 * 1024, seed: 43);
        garbage.AsSpan().Replace((byte)'\n', (byte)0);
        var log = new ServerTestLog();
        var options = new StreamServerOptions { Limit = Limit, LoggerFactory = log };
        await using (var server = await StreamServer.StartAsync(RawPeer.FaultOrEcho(ServerTestKit.EchoLinesAsync), "127.0.0.1", 0, options, cts.Token))
        {
            using (var peer = await RawPeer.ConnectAsync(server, cts.Token))
            {
                await RawPeer.SendFaultLineAsync(peer, cts.Token);

                // The echo callback fails on its first line (LimitOverrunException); the server logs it and closes this
                // connection, which may reset it while garbage is still arriving.
                var sending = SendIgnoringResetAsync(peer, garbage, cts.Token);
                var how = await ServerTestKit.ReceiveUntilClosedAsync(peer, cts.Token);
                Assert.True(how is SocketError.Success or SocketError.ConnectionReset, how.ToString());
                await sending;
            }

            var failure = await log.WaitForAsync(e => e.Exception is LimitOverrunException, cts.Token);
            Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, failure.Level);
            await RawPeer.AssertServesAsync(server, cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    private static async Task SendIgnoringResetAsync(Socket peer, byte[] data, CancellationToken cancellationToken)
    {
        try
        {
            await ServerTestKit.SendAsync(peer, data, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            // The server closed this connection before all of it was sent.
        }
    }

    private static async Task WaitForBufferedAsync(StreamReader reader, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; reader.BufferedBytes < count && i < 1000; i++)
        {
            await Task.Delay(5, cancellationToken);
        }

        Assert.Equal(count, reader.BufferedBytes);
    }
}
