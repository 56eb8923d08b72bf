using System.Globalization;
using System.Net.Sockets;
using System.Runtime;
using System.Text;

// The runtime looks for a type named exactly StartupHook in the global namespace, so this one cannot
// live in a namespace.
#pragma warning disable CA1050

/// <summary>
/// Serves the process's GC and thread-pool counters to the benchmark client. The runner loads this hook
/// into every .NET server (DOTNET_STARTUP_HOOKS) and names a Unix socket path in
/// ASYNCSTREAMS_BENCH_STATS; without that variable the hook does nothing. A client connects, sends one
/// command line and reads one JSON line back: <c>stats</c> reports the counters as they are,
/// <c>gc</c> first forces a full compacting collection so that the heap size is the live heap, and
/// <c>gc-decommit</c> then runs an aggressive one, which also returns the GC's free memory to the system
/// (the GC otherwise keeps it committed for the next allocations, which RSS counts).
/// The hook runs on its own thread with blocking sockets, so it never touches the thread pool the server
/// is measured on, and it is only active during the two queries that bracket a measurement window.
/// </summary>
internal static class StartupHook
{
    private const string PathVariable = "ASYNCSTREAMS_BENCH_STATS";

    // A run queries a server a few times per scenario; the bound only keeps the loop finite.
    private const int MaxQueries = 1_000_000;

    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable(PathVariable);
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(8);
        var thread = new Thread(() => Serve(listener)) { IsBackground = true, Name = "bench-stats" };
        thread.Start();
    }

    private static void Serve(Socket listener)
    {
        var buffer = new byte[256];
        for (var i = 0; i < MaxQueries; i++)
        {
            using var client = listener.Accept();
            try
            {
                var command = ReadCommand(client, buffer);
                if (command == "gc")
                {
                    CollectEverything();
                }
                else if (command == "gc-decommit")
                {
                    CollectEverything();
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                }

                client.Send(Encoding.ASCII.GetBytes(Snapshot() + "\n"));
                client.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The querying client went away; the next one gets a fresh connection.
            }
        }
    }

    private static string ReadCommand(Socket client, byte[] buffer)
    {
        var length = 0;
        while (length < buffer.Length)
        {
            var n = client.Receive(buffer, length, buffer.Length - length, SocketFlags.None);
            if (n == 0)
            {
                break;
            }

            length += n;
            if (Array.IndexOf(buffer, (byte)'\n', 0, length) >= 0)
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length).Trim();
    }

    private static void CollectEverything()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static string Snapshot()
    {
        // Read the allocation counter first so that the snapshot's own strings are not counted in it.
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var info = GC.GetGCMemoryInfo();
        var c = CultureInfo.InvariantCulture;
        return string.Create(c,
            $"{{\"allocatedBytes\":{allocated},\"totalMemory\":{GC.GetTotalMemory(false)}," +
            $"\"heapSizeBytes\":{info.HeapSizeBytes},\"committedBytes\":{info.TotalCommittedBytes}," +
            $"\"gen0\":{GC.CollectionCount(0)},\"gen1\":{GC.CollectionCount(1)},\"gen2\":{GC.CollectionCount(2)}," +
            $"\"pauseMs\":{GC.GetTotalPauseDuration().TotalMilliseconds}," +
            $"\"serverGC\":{(GCSettings.IsServerGC ? "true" : "false")},\"latencyMode\":\"{GCSettings.LatencyMode}\"," +
            $"\"threadPoolThreads\":{ThreadPool.ThreadCount},\"completedWorkItems\":{ThreadPool.CompletedWorkItemCount}," +
            $"\"lockContentions\":{Monitor.LockContentionCount},\"processorCount\":{Environment.ProcessorCount}}}");
    }
}
