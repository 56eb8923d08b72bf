using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace AsyncStreams.Tests;

/// <summary>
/// The benchmark suite's heap census (<c>AsyncStreams.Benchmarks heap</c>), run against the echo sample as the
/// idle-memory investigation runs it: a baseline, then N more idle connections, the difference divided by N.
/// </summary>
public class BenchmarkHeapCensusTests
{
    private const int Connections = 40;

    [Fact]
    public async Task HeapCensus_AgainstBaselineWithIdleEchoConnections_CountsOneReaderAndTransportPerConnection()
    {
        using var cts = ServerTestKit.Timeout(60);
        var baseline = Path.Combine(Path.GetTempPath(), $"asyncstreams-heap-{Guid.NewGuid():N}.json");
        await using var server = SampleProcess.StartSample("EchoServer", "--persistent", "--host", "127.0.0.1", "--port", "0");
        var endPoint = await server.WaitForServingAsync(cts.Token);
        var sockets = new List<Socket>();
        try
        {
            sockets.Add(await EchoOnceAsync(endPoint, cts.Token));
            await using (var before = SampleProcess.StartSample(
                "AsyncStreams.Benchmarks", "heap", "--pid", Text(server.Id), "--save", baseline))
            {
                await before.AssertExitCodeAsync(0, cts.Token);
            }

            for (var i = 0; i < Connections; i++)
            {
                sockets.Add(await EchoOnceAsync(endPoint, cts.Token));
            }

            await using var after = SampleProcess.StartSample(
                "AsyncStreams.Benchmarks", "heap", "--pid", Text(server.Id), "--baseline", baseline, "--per", Text(Connections), "--top", "200");
            await after.AssertExitCodeAsync(0, cts.Token);

            // Each idle connection holds exactly one reader, transport and writer; the census must find them all.
            var perConnection = ObjectsPerUnit(after.StandardOutput);
            Assert.True(perConnection.TryGetValue("AsyncStreams.StreamReader", out var readers), after.Describe());
            Assert.Equal(1.0, readers);
            Assert.Equal(1.0, perConnection["AsyncStreams.Internal.SocketTransport"]);
            Assert.Equal(1.0, perConnection["AsyncStreams.StreamWriter"]);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            File.Delete(baseline);
        }
    }

    private static async Task<Socket> EchoOnceAsync(System.Net.IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = await ServerTestKit.ConnectAsync(endPoint, cancellationToken);
        await ServerTestKit.SendAsync(socket, "ping\n", cancellationToken);
        Assert.Equal("ping\n", Encoding.ASCII.GetString(await ServerTestKit.ReceiveExactlyAsync(socket, 5, cancellationToken)));
        return socket;
    }

    // Rows look like "           1            128  AsyncStreams.StreamReader": objects per unit, bytes per unit, type.
    private static Dictionary<string, double> ObjectsPerUnit(string output)
    {
        var rows = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n').Skip(1))
        {
            var parts = line.Trim().Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out var objects))
            {
                rows[parts[2]] = objects;
            }
        }

        return rows;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
