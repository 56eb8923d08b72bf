using System.Globalization;

namespace AsyncStreams.Tests;

/// <summary>EchoServer on SIGTERM and Ctrl+C (SIGINT): stop accepting, close clients gracefully, exit 0.</summary>
public class SampleEchoServerShutdownTests
{
    private const string WaitingClient = """
        import asyncio, sys

        async def main(port):
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
            writer.write(b'hello\n')
            assert await reader.readline() == b'hello\n'
            print('CONNECTED', flush=True)
            rest = await reader.read()
            print('EOF' if rest == b'' else 'DATA %r' % rest)
            writer.close()

        asyncio.run(main(int(sys.argv[1])))
        """;

    [Fact]
    public async Task EchoServer_SigtermWithConnectedClient_ClosesClientGracefullyAndExitsZero()
    {
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        SamplePeers.Require("python3");
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0", "--persistent");
        var endpoint = await server.WaitForServingAsync(ct);
        await using var client = SamplePeers.StartPython(WaitingClient, endpoint.Port.ToString(CultureInfo.InvariantCulture));
        await client.WaitForLineAsync(l => l == "CONNECTED", ct);

        await server.SignalAsync("TERM", ct);

        await server.AssertExitCodeAsync(0, ct);
        Assert.Contains("Server stopped", server.StandardOutput, StringComparison.Ordinal);
        await client.AssertExitCodeAsync(0, ct);
        Assert.Equal("CONNECTED\nEOF\n", client.StandardOutput);
    }

    [Fact]
    public async Task EchoServer_CtrlC_StopsAndExitsZero()
    {
        // A process started with SIGINT ignored (a background job of a shell without job control)
        // passes that on to its children, and then no Ctrl+C can reach the server.
        Assert.SkipWhen(IsSigintIgnored(), "SIGINT is ignored in this environment, so Ctrl+C cannot reach the server.");
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0");
        await server.WaitForServingAsync(ct);

        await server.SignalAsync("INT", ct);

        await server.AssertExitCodeAsync(0, ct);
        Assert.Contains("Server stopped", server.StandardOutput, StringComparison.Ordinal);
    }

    private static bool IsSigintIgnored()
    {
        const int Sigint = 2;
        if (!OperatingSystem.IsLinux())
            return false;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (Sigint - 1))) != 0;
    }
}
