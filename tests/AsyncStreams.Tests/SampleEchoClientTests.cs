using System.Globalization;

namespace AsyncStreams.Tests;

/// <summary>EchoClient against a python3 asyncio line echo server, against the EchoServer sample, and against a refused port.</summary>
public class SampleEchoClientTests
{
    [Fact]
    public async Task EchoClient_AsyncioLineEchoServer_PrintsEchoedLine()
    {
        const string Server = """
            import asyncio

            async def handle(reader, writer):
                async for line in reader:
                    writer.write(line)
                    await writer.drain()
                writer.close()
                await writer.wait_closed()

            async def main():
                server = await asyncio.start_server(handle, '127.0.0.1', 0)
                print('PORT', server.sockets[0].getsockname()[1], flush=True)
                async with server:
                    await server.serve_forever()

            asyncio.run(main())
            """;
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        await using var server = SamplePeers.StartPython(Server);
        var port = (await server.WaitForLineAsync(l => l.StartsWith("PORT ", StringComparison.Ordinal), ct))["PORT ".Length..];

        await using var client = SampleProcess.StartSample("EchoClient", "--port", port, "hi there");

        await client.AssertExitCodeAsync(0, ct);
        Assert.Equal("Send: 'hi there'\nReceived: 'hi there\\n'\nClose the connection\n", client.StandardOutput);
    }

    [Fact]
    public async Task EchoClient_EchoServerSample_RoundTripsDefaultMessage()
    {
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0");
        var endpoint = await server.WaitForServingAsync(ct);

        await using var client = SampleProcess.StartSample("EchoClient", "--host", "127.0.0.1", "--port", endpoint.Port.ToString(CultureInfo.InvariantCulture));

        await client.AssertExitCodeAsync(0, ct);
        Assert.Contains("Received: 'Hello World!\\n'\n", client.StandardOutput, StringComparison.Ordinal);
        await server.WaitForLineAsync(l => l.StartsWith("Received 'Hello World!\\n' from 127.0.0.1:", StringComparison.Ordinal), ct);
    }

    [Fact]
    public async Task EchoClient_RefusedPort_PrintsOneErrorLineAndExitsOne()
    {
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        using var reserved = SamplePeers.ReserveRefusingPort(out var port);

        await using var client = SampleProcess.StartSample("EchoClient", "--port", port.ToString(CultureInfo.InvariantCulture));

        SamplePeers.AssertOneErrorLine(client, await client.WaitForExitAsync(ct), $"error: connection to 127.0.0.1 port {port} refused");
    }
}
