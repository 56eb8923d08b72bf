using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace AsyncStreams.Benchmarks.Harness;

/// <summary>
/// GC and thread-pool counters of a .NET server, as served by the StatsHook startup hook over a Unix
/// socket (see benchmarks/StatsHook). Every field is a running total or a current value.
/// </summary>
internal sealed record ServerStats(
    long AllocatedBytes,
    long TotalMemory,
    long HeapSizeBytes,
    long CommittedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    double PauseMs,
    bool ServerGC,
    string LatencyMode,
    int ThreadPoolThreads,
    long CompletedWorkItems,
    long LockContentions,
    int ProcessorCount)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Queries the server at <paramref name="path"/>; with <paramref name="collect"/> the server first runs
    /// a full compacting GC so that the heap figures are the live heap, and with <paramref name="decommit"/>
    /// also an aggressive one that returns the GC's free memory to the system. Returns null without a path.
    /// </summary>
    public static ServerStats? Query(string? path, bool collect = false, bool decommit = false)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = 30_000;
        socket.SendTimeout = 30_000;
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(Encoding.ASCII.GetBytes(decommit ? "gc-decommit\n" : collect ? "gc\n" : "stats\n"));
        var buffer = new byte[4096];
        var length = 0;
        while (length < buffer.Length)
        {
            var n = socket.Receive(buffer, length, buffer.Length - length, SocketFlags.None);
            if (n == 0)
            {
                break;
            }

            length += n;
        }

        return JsonSerializer.Deserialize<ServerStats>(buffer.AsSpan(0, length), Json)
            ?? throw new InvalidDataException("The stats channel answered nothing.");
    }
}
