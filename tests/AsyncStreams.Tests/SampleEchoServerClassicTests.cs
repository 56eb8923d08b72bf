namespace AsyncStreams.Tests;

/// <summary>The default EchoServer mode (the asyncio documentation's echo server), driven by curl and python3 asyncio.</summary>
public class SampleEchoServerClassicTests
{
    [Fact]
    public async Task EchoServer_CurlTelnetHelloWorld_EchoesAndPrintsReceived()
    {
        var curl = SamplePeers.Require("curl");
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0");
        var endpoint = await server.WaitForServingAsync(ct);

        // The README's check: echo "Hello World" | curl telnet://127.0.0.1:PORT prints Hello World.
        await using var client = SampleProcess.Start(curl, ["--silent", "--show-error", $"telnet://{endpoint}"]);
        await client.WriteInputAndCloseAsync("Hello World\n", ct);

        await client.AssertExitCodeAsync(0, ct);
        Assert.Equal("Hello World\n", client.StandardOutput);
        var received = await server.WaitForLineAsync(l => l.StartsWith("Received ", StringComparison.Ordinal), ct);
        Assert.Matches(@"^Received 'Hello World\\n' from 127\.0\.0\.1:\d+$", received);
    }

    [Fact]
    public async Task EchoServer_AsyncioDocumentationClient_ReceivesItsMessage()
    {
        const string Client = """
            import asyncio, sys

            async def tcp_echo_client(message, port):
                reader, writer = await asyncio.open_connection('127.0.0.1', port)
                writer.write(message.encode())
                await writer.drain()
                data = await reader.read(100)
                print(f'Received: {data.decode()!r}')
                writer.close()
                await writer.wait_closed()

            asyncio.run(tcp_echo_client('Hello World!', int(sys.argv[1])))
            """;
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        SamplePeers.Require("python3");
        await using var server = SampleProcess.StartSample("EchoServer", "--host", "127.0.0.1", "--port", "0");
        var endpoint = await server.WaitForServingAsync(ct);

        await using var client = SamplePeers.StartPython(Client, endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await client.AssertExitCodeAsync(0, ct);
        Assert.Equal("Received: 'Hello World!'\n", client.StandardOutput);
        await server.WaitForLineAsync(l => l == "Send: 'Hello World!'", ct);
        await server.WaitForLineAsync(l => l == "Close the connection", ct);
    }
}
