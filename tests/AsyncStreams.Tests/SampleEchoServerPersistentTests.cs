using System.Globalization;

namespace AsyncStreams.Tests;

/// <summary>EchoServer --persistent, the line echo server of the load and fault tests, driven by python3 asyncio clients.</summary>
public class SampleEchoServerPersistentTests
{
    [Fact]
    public async Task EchoServer_PersistentConcurrentClients_EchoEveryLineInOrder()
    {
        // Each client writes its lines while reading the echoes, then half-closes and expects the
        // server to close in turn once its last line is echoed.
        const string Clients = """
            import asyncio, sys

            async def client(port, i, count):
                reader, writer = await asyncio.open_connection('127.0.0.1', port)
                lines = [b'%d:%d:' % (i, n) + b'x' * ((i * 131 + n * 17) % 3000) + b'\n' for n in range(count)]

                async def send():
                    for line in lines:
                        writer.write(line)
                        await writer.drain()

                sender = asyncio.create_task(send())
                for expected in lines:
                    got = await reader.readline()
                    assert got == expected, (i, len(got), len(expected))
                await sender
                writer.write_eof()
                assert await reader.read() == b''
                writer.close()
                await writer.wait_closed()

            async def main(port, clients, count):
                await asyncio.gather(*(client(port, i, count) for i in range(clients)))
                print('OK', clients * count)

            asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
            """;
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        SamplePeers.Require("python3");
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0", "--persistent");
        var endpoint = await server.WaitForServingAsync(ct);

        await using var clients = SamplePeers.StartPython(Clients, Port(endpoint.Port), "20", "100");

        await clients.AssertExitCodeAsync(0, ct);
        Assert.Equal("OK 2000\n", clients.StandardOutput);
        Assert.Equal("", server.StandardError);
    }

    [Fact]
    public async Task EchoServer_PersistentOverlongLine_AnswersErrorAndClosesOnlyThatConnection()
    {
        const string Clients = """
            import asyncio, sys

            async def main(port):
                r1, w1 = await asyncio.open_connection('127.0.0.1', port)
                w1.write(b'before\n')
                assert await r1.readline() == b'before\n'

                r2, w2 = await asyncio.open_connection('127.0.0.1', port)
                w2.write(b'y' * 5000 + b'\n')
                await w2.drain()
                answer = await r2.read()
                assert answer == b'ERROR line too long\n', answer
                w2.close()
                await w2.wait_closed()

                w1.write(b'after\n')
                assert await r1.readline() == b'after\n'
                r3, w3 = await asyncio.open_connection('127.0.0.1', port)
                w3.write(b'new client\n')
                assert await r3.readline() == b'new client\n'
                for w in (w1, w3):
                    w.close()
                    await w.wait_closed()
                print('OK')

            asyncio.run(main(int(sys.argv[1])))
            """;
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        SamplePeers.Require("python3");
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0", "--persistent", "--limit", "1024");
        var endpoint = await server.WaitForServingAsync(ct);

        await using var clients = SamplePeers.StartPython(Clients, Port(endpoint.Port));

        await clients.AssertExitCodeAsync(0, ct);
        Assert.Equal("OK\n", clients.StandardOutput);
    }

    [Fact]
    public async Task EchoServer_PersistentClientStreamingEndlessLine_GetsErrorThenEof()
    {
        // This client never ends its line and never stops writing until it has read the answer: the
        // server must still deliver the error message and close the connection.
        const string Client = """
            import asyncio, sys

            async def main(port):
                reader, writer = await asyncio.open_connection('127.0.0.1', port)

                async def flood():
                    try:
                        for _ in range(4096):
                            writer.write(b'z' * 1024)
                            await writer.drain()
                            await asyncio.sleep(0)
                    except (ConnectionError, OSError):
                        pass

                flooding = asyncio.create_task(flood())
                answer = await reader.readline()
                assert answer == b'ERROR line too long\n', answer
                flooding.cancel()
                writer.close()
                print('OK')

            asyncio.run(main(int(sys.argv[1])))
            """;
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        SamplePeers.Require("python3");
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0", "--persistent", "--limit", "4096");
        var endpoint = await server.WaitForServingAsync(ct);

        await using var client = SamplePeers.StartPython(Client, Port(endpoint.Port));

        await client.AssertExitCodeAsync(0, ct);
        Assert.Equal("OK\n", client.StandardOutput);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
