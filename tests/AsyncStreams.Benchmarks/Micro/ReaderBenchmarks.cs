using AsyncStreams.Benchmarks.Client;
using BenchmarkDotNet.Attributes;

namespace AsyncStreams.Benchmarks.Micro;

/// <summary>
/// StreamReader on in-memory data: each operation feeds about 1 MiB with FeedData (what a receive loop
/// does) and reads it back as 80-byte or 100 KiB records. Times and allocations are per record
/// (OperationsPerInvoke); MB/s is record bytes per second. The byte[] paths allocate the returned array;
/// ReadExactlyAsync(Memory) should allocate nothing. ReadLineWaiting1KiB is a server's usual case instead: each
/// line is fed while the read waits for it, so every read goes through its wait.
/// </summary>
public class ReaderBenchmarks
{
    private const int Chunk = 1 << 20;
    private const int Small = 80;
    private const int Large = 100 * 1024;
    private const int SmallRecords = Chunk / Small;
    private const int LargeRecords = Chunk / Large;
    private const int Medium = 1024;
    private const int WaitingRecords = 1024;

    private static readonly ReadOnlyMemory<byte> CrLf = "\r\n"u8.ToArray();

    private readonly byte[] _smallLines = Repeat(LoadOptions.Message(Small), SmallRecords);
    private readonly byte[] _largeLines = Repeat(LoadOptions.Message(Large), LargeRecords);
    private readonly byte[] _mediumLine = LoadOptions.Message(Medium);
    private readonly byte[] _smallCrLf = Repeat(CrLfMessage(Small), SmallRecords);
    private readonly byte[] _largeCrLf = Repeat(CrLfMessage(Large), LargeRecords);
    private readonly byte[] _smallTarget = new byte[Small];
    private readonly byte[] _largeTarget = new byte[Large];

    // One reader per benchmark, reused across operations like a connection's reader; the limit lets
    // 100 KiB lines through.
    private readonly StreamReader _reader = new(limit: 4 << 20);

    [Benchmark(OperationsPerInvoke = SmallRecords)]
    [BytesPerOperation(Small)]
    public async Task<int> ReadLine80B()
    {
        _reader.FeedData(_smallLines);
        var total = 0;
        for (var i = 0; i < SmallRecords; i++)
        {
            total += (await _reader.ReadLineAsync()).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = LargeRecords)]
    [BytesPerOperation(Large)]
    public async Task<int> ReadLine100KiB()
    {
        _reader.FeedData(_largeLines);
        var total = 0;
        for (var i = 0; i < LargeRecords; i++)
        {
            total += (await _reader.ReadLineAsync()).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = WaitingRecords)]
    [BytesPerOperation(Medium)]
    public async Task<int> ReadLineWaiting1KiB()
    {
        var total = 0;
        for (var i = 0; i < WaitingRecords; i++)
        {
            // The read finds nothing and waits; the feed completes it on this thread, as a receive loop does.
            var line = _reader.ReadLineAsync();
            _reader.FeedData(_mediumLine);
            total += (await line).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = SmallRecords)]
    [BytesPerOperation(Small)]
    public async Task<int> ReadUntilCrLf80B()
    {
        _reader.FeedData(_smallCrLf);
        var total = 0;
        for (var i = 0; i < SmallRecords; i++)
        {
            total += (await _reader.ReadUntilAsync(CrLf)).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = LargeRecords)]
    [BytesPerOperation(Large)]
    public async Task<int> ReadUntilCrLf100KiB()
    {
        _reader.FeedData(_largeCrLf);
        var total = 0;
        for (var i = 0; i < LargeRecords; i++)
        {
            total += (await _reader.ReadUntilAsync(CrLf)).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = SmallRecords)]
    [BytesPerOperation(Small)]
    public async Task ReadExactlyMemory80B()
    {
        _reader.FeedData(_smallLines);
        for (var i = 0; i < SmallRecords; i++)
        {
            await _reader.ReadExactlyAsync(_smallTarget.AsMemory());
        }
    }

    [Benchmark(OperationsPerInvoke = LargeRecords)]
    [BytesPerOperation(Large)]
    public async Task ReadExactlyMemory100KiB()
    {
        _reader.FeedData(_largeLines);
        for (var i = 0; i < LargeRecords; i++)
        {
            await _reader.ReadExactlyAsync(_largeTarget.AsMemory());
        }
    }

    private static byte[] CrLfMessage(int size)
    {
        var message = LoadOptions.Message(size);
        message[^2] = (byte)'\r';
        return message;
    }

    private static byte[] Repeat(byte[] record, int count)
    {
        var data = new byte[record.Length * count];
        for (var i = 0; i < count; i++)
        {
            record.CopyTo(data, i * record.Length);
        }

        return data;
    }
}
