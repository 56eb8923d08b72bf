using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using AsyncStreams.Benchmarks.Client;
using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Scenarios;

/// <summary>What the slow-reader scenario measured.</summary>
internal sealed record SlowReaderResult(
    long BytesOffered,
    long BytesAccepted,
    bool Stalled,
    double Seconds,
    long RssBeforeBytes,
    long RssPeakBytes,
    long RssGrowthBytes,
    long? HeapBeforeBytes,
    long? HeapHeldBytes,
    bool ServerAliveAfter,
    IReadOnlyList<string> Errors);

/// <summary>
/// Slow reader: one connection sends up to N MB of 1 KiB lines and never reads the echoes. A server with
/// flow control stops reading once its send buffers are full (DrainAsync waits), so the client's sends
/// stall after a few MB of kernel buffers and the server's memory stays flat; a server without it buffers
/// everything. The client samples the server's RSS every 50 ms, stops after N MB or once nothing was
/// accepted for --stall seconds, then resets the connection and checks that the server still echoes.
/// </summary>
internal static class SlowReader
{
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(15);

    public static int Run(CliArguments line)
    {
        var address = line.LoopbackAddress("host");
        var port = line.Int("port", -1);
        var megabytes = line.Int("megabytes", 100);
        var stall = TimeSpan.FromSeconds(line.Double("stall", 3));
        var maxTime = TimeSpan.FromSeconds(line.Double("max-seconds", 60));
        var pid = line.OptionalInt("server-pid") ?? throw new ArgumentException("--server-pid is required.");
        var stats = line.String("stats");
        line.RejectUnknown();
        if (port is < 1 or > 65535 || megabytes is < 1 or > 100_000)
        {
            throw new ArgumentException("--port or --megabytes is out of range.");
        }

        var result = Run(new System.Net.IPEndPoint(address, port), megabytes * 1_000_000L, stall, maxTime, pid, stats);
        Console.WriteLine(JsonSerializer.Serialize(result, LoadClient.Json));
        return result.Errors.Count == 0 ? 0 : 1;
    }

    public static SlowReaderResult Run(
        System.Net.IPEndPoint endPoint, long total, TimeSpan stall, TimeSpan maxTime, int pid, string? statsPath)
    {
        var errors = new List<string>();
        var line = LoadOptions.Message(1024);
        var chunk = new byte[64 * 1024];
        for (var i = 0; i < chunk.Length; i += line.Length)
        {
            line.CopyTo(chunk, i);
        }

        var heapBefore = ServerStats.Query(statsPath, collect: true)?.TotalMemory;
        var rssBefore = ProcStat.RssBytes(pid);
        var rssPeak = rssBefore;
        long accepted = 0;
        var stalled = false;
        var clock = Stopwatch.StartNew();
        var lastProgress = clock.Elapsed;
        var lastSample = TimeSpan.Zero;
        long? heapHeld = null;

        var socket = Sockets.Connect(endPoint, IoTimeout);
        try
        {
            socket.Blocking = false;
            while (accepted < total && clock.Elapsed < maxTime)
            {
                var offset = (int)(accepted % chunk.Length);
                var length = (int)Math.Min(chunk.Length - offset, total - accepted);
                var sent = socket.Send(chunk.AsSpan(offset, length), SocketFlags.None, out var error);
                if (error is not (SocketError.Success or SocketError.WouldBlock))
                {
                    errors.Add($"Send failed: {error}.");
                    break;
                }

                if (sent > 0)
                {
                    accepted += sent;
                    lastProgress = clock.Elapsed;
                }
                else if (clock.Elapsed - lastProgress > stall)
                {
                    stalled = true;
                    break;
                }
                else
                {
                    socket.Poll(TimeSpan.FromMilliseconds(20), SelectMode.SelectWrite);
                }

                if (clock.Elapsed - lastSample > TimeSpan.FromMilliseconds(50))
                {
                    rssPeak = Math.Max(rssPeak, ProcStat.RssBytes(pid));
                    lastSample = clock.Elapsed;
                }
            }

            rssPeak = Math.Max(rssPeak, ProcStat.RssBytes(pid));

            // What the server still holds for this connection while it is blocked on it.
            heapHeld = ServerStats.Query(statsPath, collect: true)?.TotalMemory;
        }
        finally
        {
            Sockets.Reset(socket);
        }

        var alive = false;
        try
        {
            var probe = Sockets.Connect(endPoint, IoTimeout);
            Sockets.VerifyEcho(probe, line);
            Sockets.Reset(probe);
            alive = true;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            errors.Add($"The server no longer echoes after the slow reader: {e.Message}");
        }

        return new SlowReaderResult(
            total, accepted, stalled, clock.Elapsed.TotalSeconds, rssBefore, rssPeak, rssPeak - rssBefore,
            heapBefore, heapHeld, alive, errors);
    }
}
