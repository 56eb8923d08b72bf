using System.Globalization;
using System.Text;

namespace AsyncStreams.Tests;

/// <summary>Python's own asyncio streams talking to ours, in both directions.</summary>
public sealed class InteropPythonTests : IDisposable
{
    private const string EchoClientScript = """
        import asyncio, ssl, sys

        async def main(host, port, cafile):
            context = ssl.create_default_context(cafile=cafile) if cafile else None
            reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname="localhost" if context else None)
            lines = [f"line {i} {'x' * (i % 50)}\n".encode() for i in range(300)]
            writer.writelines(lines)
            await writer.drain()
            for expected in lines:
                got = await reader.readline()
                if got != expected:
                    sys.exit(f"mismatch: {got!r} != {expected!r}")
            if context is None:
                # Plain TCP: half-close; the server echoes everything, sees EOF and closes.
                writer.write_eof()
                rest = await reader.read()
                if rest:
                    sys.exit(f"unexpected bytes after EOF: {rest!r}")
            writer.close()
            await writer.wait_closed()
            print(f"OK {len(lines)}", flush=True)

        asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
        """;

    private const string UpperServerScript = """
        import asyncio, sys

        async def handle(reader, writer):
            while True:
                line = await reader.readline()
                if not line:
                    break
                writer.write(line.upper())
                await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            print(server.sockets[0].getsockname()[1], flush=True)
            # Serves until the test closes stdin.
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
            server.close()
            await server.wait_closed()

        asyncio.run(main())
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("as-py-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task PythonAsyncioClient_AgainstOurServer_EchoesAndHalfCloses()
    {
        var python = InteropPeer.Require("python3");
        using var cts = ServerTestKit.Timeout(30);
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        await using var peer = InteropPeer.Start(python, Script("echo_client.py", EchoClientScript), "127.0.0.1", Port(server));
        Assert.Equal("OK 300", await peer.ReadLineAsync(cts.Token));
        Assert.True(await peer.WaitForExitAsync(cts.Token) == 0, peer.Errors);
    }

    [Fact]
    public async Task PythonAsyncioTlsClient_AgainstOurTlsServer_VerifiesAndEchoes()
    {
        var python = InteropPeer.Require("python3");
        using var cts = ServerTestKit.Timeout(30);
        var options = new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() };
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, options, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        var pem = ServerTestCertificate.WritePem(_directory);

        await using var peer = InteropPeer.Start(python, Script("echo_client.py", EchoClientScript), "127.0.0.1", Port(server), pem);
        Assert.Equal("OK 300", await peer.ReadLineAsync(cts.Token));
        Assert.True(await peer.WaitForExitAsync(cts.Token) == 0, peer.Errors);

        // The client's close_notify ended the connection: the server has nothing left to wait for.
        server.Close();
        await server.WaitClosedAsync().WaitAsync(cts.Token);
    }

    [Fact]
    public async Task OurClient_AgainstPythonAsyncioServer_RoundTripsAndSeesItsClose()
    {
        var python = InteropPeer.Require("python3");
        using var cts = ServerTestKit.Timeout(30);
        await using var peer = InteropPeer.Start(python, Script("upper_server.py", UpperServerScript));
        var port = int.Parse(await peer.ReadLineAsync(cts.Token), CultureInfo.InvariantCulture);

        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: cts.Token);
        var lines = Enumerable.Range(0, 500).Select(i => $"message {i} {new string('a', i % 200)}\n").ToArray();
        foreach (var line in lines)
        {
            writer.Write(Encoding.ASCII.GetBytes(line));
        }

        await writer.DrainAsync(cts.Token);
        foreach (var line in lines)
        {
            Assert.Equal(line.ToUpperInvariant(), Encoding.ASCII.GetString(await reader.ReadLineAsync(cts.Token)));
        }

        writer.WriteEof();
        Assert.Empty(await reader.ReadAsync(-1, cts.Token));
        Assert.True(reader.AtEof);
        await writer.DisposeAsync();

        peer.Input.Close();
        Assert.True(await peer.WaitForExitAsync(cts.Token) == 0, peer.Errors);
    }

    private static string Port(StreamServer server) => ServerTestKit.Port(server).ToString(CultureInfo.InvariantCulture);

    private string Script(string name, string source)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, source);
        return path;
    }
}
