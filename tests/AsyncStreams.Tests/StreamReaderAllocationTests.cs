using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

// Allocation is deterministic, so these assert exact byte counts: the Memory overloads allocate nothing per call
// in steady state, and the byte[] overloads allocate exactly one array of the result's size. Each figure is the
// smallest of a few batches, so that a one-off allocation by the runtime during one batch (a pool refilled after
// a collection, a type initialised) does not count as a per-call cost, which every batch would show. The loops
// are written out in the test methods: a helper async method would allocate its own state machine in Debug.
public class StreamReaderAllocationTests : BoundedReaderTest
{
    private const int Batches = 3;
    private const int Reads = 200;

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    [Fact]
    public async Task MemoryOverloads_DataBuffered_AllocateNothing()
    {
        var reader = Fed(new string('x', 200_000));
        var buffer = new byte[80];
        var fewest = long.MaxValue;
        for (var batch = -1; batch < Batches; batch++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Reads; i++)
            {
                await reader.ReadAsync(buffer.AsMemory(), CancellationToken.None);
                await reader.ReadExactlyAsync(buffer.AsMemory(), CancellationToken.None);
            }

            // Batch -1 warms up.
            fewest = batch < 0 ? fewest : Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    [Fact]
    public async Task MemoryOverloads_WaitingForData_AllocateNothingInSteadyState()
    {
        // Each read waits on the pipe and is completed by the next FeedData, on this thread (inline scheduler).
        var reader = new StreamReader();
        var chunk = new byte[64];
        var buffer = new byte[64];
        var fewest = long.MaxValue;
        for (var batch = -1; batch < Batches; batch++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Reads; i++)
            {
                var read = reader.ReadAsync(buffer.AsMemory(), CancellationToken.None);
                Assert.False(read.IsCompleted);
                reader.FeedData(chunk);
                await read;

                var exactly = reader.ReadExactlyAsync(buffer.AsMemory(), CancellationToken.None);
                reader.FeedData(chunk.AsSpan(0, 32));
                Assert.False(exactly.IsCompleted);
                reader.FeedData(chunk.AsSpan(32));
                await exactly;
            }

            fewest = batch < 0 ? fewest : Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    [Fact]
    public async Task MemoryOverloads_LargeFeedsOverManySegments_AllocateNothingInSteadyState()
    {
        // A megabyte per FeedData lands in sixteen 64 KiB segments; reads of 100 KiB use them up a few at a time.
        // The reader's pipe reuses the segment objects (and the pool the arrays), so repeated feeds allocate nothing.
        var reader = new StreamReader();
        var feed = new byte[1024 * 1024];
        var buffer = new byte[100 * 1024];
        var fewest = long.MaxValue;
        for (var batch = -1; batch < Batches; batch++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10; i++)
            {
                reader.FeedData(feed);
                for (var read = 0; read < 10; read++)
                {
                    await reader.ReadExactlyAsync(buffer.AsMemory(), CancellationToken.None);
                }

                await reader.ReadExactlyAsync(buffer.AsMemory(0, feed.Length - (10 * buffer.Length)), CancellationToken.None);
            }

            fewest = batch < 0 ? fewest : Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    [Fact]
    public async Task ByteArrayOverloads_DataBuffered_AllocateOneExactSizeArrayPerCall()
    {
        var line = new string('y', 79) + "\n";
        var reader = Fed(string.Concat(Enumerable.Repeat(line, 4 * Reads * (Batches + 1))));
        var arraySize = SizeOfArray(80);
        var fewest = long.MaxValue;
        for (var batch = -1; batch < Batches; batch++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Reads; i++)
            {
                await reader.ReadLineAsync(CancellationToken.None);
                await reader.ReadUntilAsync(NewLine, CancellationToken.None);
                await reader.ReadExactlyAsync(80, CancellationToken.None);
                await reader.ReadAsync(80, CancellationToken.None);
            }

            fewest = batch < 0 ? fewest : Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(4L * Reads * arraySize, fewest);
    }

    [Fact]
    public async Task LineAndUntilReads_WaitingForData_AllocateOnlyTheResult()
    {
        // Each read waits (the line arrives in two feeds, the second completing it on this thread), then returns
        // one exact-size array: the wait itself allocates nothing.
        var reader = new StreamReader();
        var head = new byte[40];
        Array.Fill(head, (byte)'w');
        var tail = "ww\r\n"u8.ToArray();
        IReadOnlyList<ReadOnlyMemory<byte>> separators = ["\r\n"u8.ToArray(), "\0\0"u8.ToArray()];
        var arraySize = SizeOfArray(head.Length + tail.Length);
        var fewest = long.MaxValue;
        for (var batch = -1; batch < Batches; batch++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Reads; i++)
            {
                var line = reader.ReadLineAsync(CancellationToken.None);
                reader.FeedData(head);
                Assert.False(line.IsCompleted);
                reader.FeedData(tail);
                await line;

                var until = reader.ReadUntilAsync(separators, CancellationToken.None);
                reader.FeedData(head);
                Assert.False(until.IsCompleted);
                reader.FeedData(tail);
                await until;
            }

            fewest = batch < 0 ? fewest : Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(2L * Reads * arraySize, fewest);
    }

    [Fact]
    public async Task ReadLineAsync_LineCrossingSegments_AllocatesOnlyTheResult()
    {
        // 4,000-byte lines straddle the pipe's 4 KiB segments; the line is copied once, into its array.
        const int lines = 50;
        var line = new string('z', 3_999) + "\n";
        var reader = Fed(string.Concat(Enumerable.Repeat(line, lines * (Batches + 1))));
        var arraySize = SizeOfArray(4_000);
        var fewest = long.MaxValue;
        for (var batch = -1; batch < Batches; batch++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < lines; i++)
            {
                await reader.ReadLineAsync(CancellationToken.None);
            }

            fewest = batch < 0 ? fewest : Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(lines * arraySize, fewest);
    }

    private static long SizeOfArray(int length)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var array = new byte[length];
        var size = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(array);
        return size;
    }
}
