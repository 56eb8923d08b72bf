using System.Buffers;
using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Servers;

/// <summary>
/// The benchmark's own AsyncStreams echo server (the <c>serve</c> verb), for the modes the echo sample does
/// not have. Line mode is the sample's <c>--persistent</c> loop (ReadLineAsync, Write, DrainAsync); read mode
/// reads into one pooled 64 KiB buffer per connection with the allocation-free ReadAsync(Memory) and writes
/// what it read, as asyncio's read(65536) loop does. Listens on 127.0.0.1 only, with the library's defaults
/// (TCP_NODELAY on) and a 1 MiB line limit like every baseline.
/// </summary>
internal static class AsyncStreamsEcho
{
    public const string Usage = "serve --port P [--mode line|read] [--limit 1048576] [--lifetime 3600]";

    // Messages per connection; the bound only keeps the loops finite.
    private const long MaxMessages = 100_000_000_000;

    public static int Run(CliArguments line)
    {
        var port = line.Int("port", -1);
        var mode = line.String("mode", "line");
        var limit = line.Int("limit", 1 << 20);
        var lifetime = TimeSpan.FromSeconds(line.Double("lifetime", 3600));
        line.RejectUnknown();
        if (port is < 0 or > 65535 || mode is not ("line" or "read") || limit <= 0)
        {
            throw new ArgumentException(Usage);
        }

        return ServeAsync(port, mode == "line" ? LineEchoAsync : ReadEchoAsync, limit, lifetime).GetAwaiter().GetResult();
    }

    private static async Task<int> ServeAsync(int port, Func<StreamReader, StreamWriter, Task> callback, int limit, TimeSpan lifetime)
    {
        await using var server = await StreamServer.StartAsync(callback, "127.0.0.1", port, new StreamServerOptions { Limit = limit });
        Console.WriteLine($"listening on {server.EndPoints[0]}");
        using var stop = new CancellationTokenSource(lifetime);
        try
        {
            await server.ServeForeverAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The lifetime is over.
        }

        server.AbortClients();
        return 0;
    }

    private static async Task LineEchoAsync(StreamReader reader, StreamWriter writer)
    {
        try
        {
            for (long i = 0; i < MaxMessages; i++)
            {
                var line = await reader.ReadLineAsync();
                if (line.Length == 0)
                {
                    break;
                }

                writer.Write(line);
                await writer.DrainAsync();
            }
        }
        catch (Exception e) when (e is IOException or LimitOverrunException)
        {
            // The peer reset, or sent a line over the limit: this connection ends, the server goes on.
        }
        finally
        {
            writer.Close();
            await writer.WaitClosedAsync();
        }
    }

    private static async Task ReadEchoAsync(StreamReader reader, StreamWriter writer)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(65536);
        try
        {
            for (long i = 0; i < MaxMessages; i++)
            {
                var n = await reader.ReadAsync(buffer.AsMemory());
                if (n == 0)
                {
                    break;
                }

                writer.Write(buffer.AsSpan(0, n));
                await writer.DrainAsync();
            }
        }
        catch (IOException)
        {
            // The peer reset: this connection ends, the server goes on.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            writer.Close();
            await writer.WaitClosedAsync();
        }
    }
}
