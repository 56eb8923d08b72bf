using System.Net.Sockets;
using System.Text.Json;
using AsyncStreams.Benchmarks.Client;
using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Scenarios;

/// <summary>What the idle-memory scenario measured.</summary>
internal sealed record IdleMemoryResult(
    int Connections,
    long RssBeforeBytes,
    long RssAfterBytes,
    double RssBytesPerConnection,
    long? HeapBeforeBytes,
    long? HeapAfterBytes,
    double? HeapBytesPerConnection,
    long AnonymousBeforeBytes,
    long AnonymousAfterBytes,
    double AnonymousBytesPerConnection,
    double SecondsToOpen,
    IReadOnlyList<string> Errors);

/// <summary>
/// Idle memory: opens N connections, does one echo on each, lets them sit, and reports what each costs the
/// server: the growth of its resident set (native and managed) and, for .NET servers, of its live managed
/// heap after a full collection, both divided by N. It also reports the growth of the server's anonymous memory
/// (RssAnon: its managed and native heaps), for .NET servers read after a collection that returns the GC's free
/// memory to the system. The plain RSS growth includes memory the GC keeps committed for future allocations (its
/// budget grows with the live heap) and code pages touched for the first time, which no connection holds; the
/// anonymous growth after decommitting is what the connections keep: their live objects plus native memory.
/// </summary>
internal static class IdleMemory
{
    private const int WarmUpConnections = 500;
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(15);

    public static int Run(CliArguments line)
    {
        var address = line.LoopbackAddress("host");
        var port = line.Int("port", -1);
        var connections = line.Int("connections", 5000);
        var size = line.Int("size", 1024);
        var settle = TimeSpan.FromSeconds(line.Double("settle", 1));
        var pid = line.OptionalInt("server-pid") ?? throw new ArgumentException("--server-pid is required.");
        var stats = line.String("stats");
        line.RejectUnknown();
        if (port is < 1 or > 65535 || connections is < 1 or > 20_000)
        {
            throw new ArgumentException("--port or --connections is out of range.");
        }

        var result = Run(new System.Net.IPEndPoint(address, port), connections, size, settle, pid, stats);
        Console.WriteLine(JsonSerializer.Serialize(result, LoadClient.Json));
        return result.Errors.Count == 0 ? 0 : 1;
    }

    public static IdleMemoryResult Run(System.Net.IPEndPoint endPoint, int connections, int size, TimeSpan settle, int pid, string? statsPath)
    {
        var message = LoadOptions.Message(size);
        var errors = new List<string>();

        // Warm the server's connection path first, so that the baseline already holds its code (tiered up, its pages
        // touched) and pools: a few hundred connections held at once, then reset. One-time costs left after 50
        // sequential connections came to 100-250 B per connection of file-backed and JIT-code pages in RSS.
        var warm = new List<Socket>(WarmUpConnections);
        for (var i = 0; i < WarmUpConnections; i++)
        {
            var socket = Sockets.Connect(endPoint, IoTimeout);
            warm.Add(socket);
            Sockets.VerifyEcho(socket, message);
        }

        foreach (var socket in warm)
        {
            Sockets.Reset(socket);
        }

        Thread.Sleep(settle);
        var heapBefore = ServerStats.Query(statsPath, collect: true)?.TotalMemory;
        var rssBefore = ProcStat.RssBytes(pid);
        var anonymousBefore = AnonymousAfterDecommit(statsPath, pid);

        var open = new List<Socket>(connections);
        var started = DateTime.UtcNow;
        try
        {
            for (var i = 0; i < connections; i++)
            {
                var socket = Sockets.Connect(endPoint, IoTimeout);
                open.Add(socket);
                Sockets.VerifyEcho(socket, message);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            errors.Add($"Connection {open.Count} of {connections} failed: {e.Message}");
        }

        var secondsToOpen = (DateTime.UtcNow - started).TotalSeconds;
        Thread.Sleep(settle);
        var heapAfter = ServerStats.Query(statsPath, collect: true)?.TotalMemory;
        var rssAfter = ProcStat.RssBytes(pid);
        var anonymousAfter = AnonymousAfterDecommit(statsPath, pid);
        foreach (var socket in open)
        {
            Sockets.Reset(socket);
        }

        var n = Math.Max(open.Count, 1);
        return new IdleMemoryResult(
            open.Count,
            rssBefore,
            rssAfter,
            (rssAfter - rssBefore) / (double)n,
            heapBefore,
            heapAfter,
            heapAfter - heapBefore is { } heapDelta ? heapDelta / (double)n : null,
            anonymousBefore,
            anonymousAfter,
            (anonymousAfter - anonymousBefore) / (double)n,
            secondsToOpen,
            errors);
    }

    /// <summary>The server's anonymous memory, for a .NET server (one with the stats hook) after its GC has returned free memory to the system.</summary>
    private static long AnonymousAfterDecommit(string? statsPath, int pid)
    {
        _ = ServerStats.Query(statsPath, decommit: true);
        return ProcStat.AnonymousBytes(pid);
    }
}
