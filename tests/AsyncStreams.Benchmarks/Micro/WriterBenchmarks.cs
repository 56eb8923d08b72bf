using System.Net;
using AsyncStreams.Benchmarks.Client;
using BenchmarkDotNet.Attributes;

namespace AsyncStreams.Benchmarks.Micro;

/// <summary>
/// StreamWriter.Write(ReadOnlySpan) followed by DrainAsync over a real loopback connection to an
/// AsyncStreams server that reads and discards. Below the high-water mark DrainAsync completes at once, so
/// small writes measure the queueing cost; 100 KiB writes exceed the mark and wait for the socket. The
/// memory diagnoser counts every thread's allocations, the discarding server's included.
/// </summary>
public class WriterBenchmarks
{
    private StreamServer? _server;
    private StreamWriter? _writer;
    private byte[] _payload = [];

    [Params(80, 1024, 100 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = LoadOptions.Message(Size);
        _server = StreamServer.StartAsync(DiscardAsync, "127.0.0.1", 0).GetAwaiter().GetResult();
        var port = ((IPEndPoint)_server.EndPoints[0]).Port;
        (_, _writer) = Streams.OpenConnectionAsync("127.0.0.1", port).GetAwaiter().GetResult();
    }

    [Benchmark]
    public ValueTask WriteAndDrain()
    {
        _writer!.Write(_payload);
        return _writer.DrainAsync();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_writer is not null)
        {
            _writer.Close();
            _writer.WaitClosedAsync().GetAwaiter().GetResult();
        }

        _server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static async Task DiscardAsync(StreamReader reader, StreamWriter writer)
    {
        var buffer = new byte[65536];
        try
        {
            for (long i = 0; i < long.MaxValue; i++)
            {
                if (await reader.ReadAsync(buffer.AsMemory()) == 0)
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // The benchmark closed its end abruptly.
        }
        finally
        {
            writer.Close();
        }
    }
}
