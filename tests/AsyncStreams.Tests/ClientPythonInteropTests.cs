using System.Diagnostics;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

/// <summary>This library's client against a server written with Python's asyncio streams.</summary>
public class ClientPythonInteropTests
{
    // An asyncio echo server on 127.0.0.1, port 0; it prints its port, echoes lines, and on EOF
    // answers with the number of bytes it received, then closes.
    private const string Server = """
        import asyncio, sys

        async def handle(reader, writer):
            total = 0
            while True:
                line = await reader.readline()
                if not line:
                    break
                total += len(line)
                writer.write(line)
                await writer.drain()
            writer.write(b"total %d\n" % total)
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            print(server.sockets[0].getsockname()[1], flush=True)
            async with server:
                await asyncio.wait_for(server.serve_forever(), 60)

        try:
            asyncio.run(main())
        except (asyncio.TimeoutError, KeyboardInterrupt):
            pass
        """;

    private static string? FindPython()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, "python3");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    [Fact]
    public async Task OpenConnectionAsync_PythonAsyncioServer_EchoesAndHalfCloses()
    {
        string? python = FindPython();
        if (python is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "python3 is required on CI.");
            Assert.Skip("python3 is not installed.");
        }

        using var cts = Bounded();
        var start = new ProcessStartInfo(python, ["-c", Server]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process server = Process.Start(start)!;
        try
        {
            string? portLine = await server.StandardOutput.ReadLineAsync(cts.Token);
            Assert.NotNull(portLine);
            int port = int.Parse(portLine, System.Globalization.CultureInfo.InvariantCulture);

            var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: cts.Token);
            long sent = 0;
            for (int i = 0; i < 200; i++)
            {
                byte[] line = Ascii($"{i}:{new string((char)('a' + (i % 26)), i * 37 % 3000)}\n");
                writer.Write(line);
                sent += line.Length;
                await writer.DrainAsync(cts.Token);
                Assert.Equal(line, await reader.ReadLineAsync(cts.Token));
            }

            // A half-close: asyncio's reader sees EOF while our reader still gets the answer.
            writer.WriteEof();
            Assert.Equal(Ascii($"total {sent}\n"), await reader.ReadLineAsync(cts.Token));
            Assert.Empty(await reader.ReadLineAsync(cts.Token));
            writer.Close();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync(cts.Token);
        }
    }
}
