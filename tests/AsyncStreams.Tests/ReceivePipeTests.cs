using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AsyncStreams.Internal;

namespace AsyncStreams.Tests;

// The pipe between a connection's receiver and its StreamReader, on its own: the Pipe contract the reader relies on
// (examined positions, cancellation, completion), segment chains, the return of every array once all is read, and a
// writer and a reader on two threads.
public class ReceivePipeTests
{
    private const int SegmentSize = 4096;

    [Fact]
    public async Task Flush_WithAReadWaiting_CompletesItWithTheFlushedBytes()
    {
        var pipe = new ReceivePipe(SegmentSize);
        ValueTask<ReadResult> read = pipe.ReadAsync(CancellationToken.None);
        Assert.False(read.IsCompleted);

        Write(pipe, "hello");
        Assert.True(read.IsCompleted);
        ReadResult result = await read;
        Assert.Equal("hello", Text(result.Buffer));
        Assert.False(result.IsCompleted);
        Assert.False(result.IsCanceled);
        pipe.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task ReadAsync_AfterEverythingWasExamined_WaitsForNewBytes()
    {
        // Nothing consumed, everything examined: the next read waits, then returns the old bytes with the new ones.
        ReceivePipe pipe = await PipeWithBytesExamined("abc");
        Assert.False(pipe.TryRead(out _));
        ValueTask<ReadResult> second = pipe.ReadAsync(CancellationToken.None);
        Assert.False(second.IsCompleted);

        Write(pipe, "def");
        ReadResult result = await second;
        Assert.Equal("abcdef", Text(result.Buffer));
        pipe.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task AdvanceTo_PartOfTheBytesExamined_NextReadReturnsAtOnceWithTheUnconsumedBytes()
    {
        var pipe = new ReceivePipe(SegmentSize);
        Write(pipe, "line1\nline2");
        ReadResult first = await pipe.ReadAsync(CancellationToken.None);
        pipe.AdvanceTo(first.Buffer.GetPosition(6), first.Buffer.GetPosition(8));

        ValueTask<ReadResult> second = pipe.ReadAsync(CancellationToken.None);
        Assert.True(second.IsCompleted);
        ReadResult result = await second;
        Assert.Equal("line2", Text(result.Buffer));
        pipe.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task CancelPendingRead_NoReadWaiting_MakesTheNextReadReturnAtOnceOnlyOnce()
    {
        var pipe = new ReceivePipe(SegmentSize);
        pipe.CancelPendingRead();
        ValueTask<ReadResult> read = pipe.ReadAsync(CancellationToken.None);
        Assert.True(read.IsCompleted);
        ReadResult result = await read;
        Assert.True(result.IsCanceled);
        Assert.True(result.Buffer.IsEmpty);
        pipe.AdvanceTo(result.Buffer.End);

        Assert.False(pipe.TryRead(out _));
        ValueTask<ReadResult> next = pipe.ReadAsync(CancellationToken.None);
        Assert.False(next.IsCompleted);
        pipe.CancelPendingRead();
        Assert.True((await next).IsCanceled);
    }

    [Fact]
    public async Task CancelPendingRead_ReadWaiting_CompletesItAsCancelledWithTheBytesThereAre()
    {
        ReceivePipe pipe = await PipeWithBytesExamined("kept");

        ValueTask<ReadResult> read = pipe.ReadAsync(CancellationToken.None);
        Assert.False(read.IsCompleted);
        pipe.CancelPendingRead();
        ReadResult result = await read;
        Assert.True(result.IsCanceled);
        Assert.Equal("kept", Text(result.Buffer));
        pipe.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task ReadAsync_TokenCancelledWhileWaiting_ThrowsAndTheNextReadGetsEveryByte()
    {
        ReceivePipe pipe = await PipeWithBytesExamined("first");

        using var cancellation = new CancellationTokenSource();
        ValueTask<ReadResult> read = pipe.ReadAsync(cancellation.Token);
        Assert.False(read.IsCompleted);
        await cancellation.CancelAsync();
        OperationCanceledException caught = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        Assert.Equal(cancellation.Token, caught.CancellationToken);

        Write(pipe, "second");
        ReadResult result = await pipe.ReadAsync(CancellationToken.None);
        Assert.Equal("firstsecond", Text(result.Buffer));
        pipe.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task ReadAsync_TokenCancelledAfterTheReadCompleted_DoesNotAffectTheNextRead()
    {
        var pipe = new ReceivePipe(SegmentSize);
        using var cancellation = new CancellationTokenSource();
        ValueTask<ReadResult> read = pipe.ReadAsync(cancellation.Token);
        Write(pipe, "a");
        ReadResult result = await read;
        pipe.AdvanceTo(result.Buffer.End);

        // The same token, cancelled only after the first wait ended, cancels a second wait, and nothing else.
        ValueTask<ReadResult> second = pipe.ReadAsync(CancellationToken.None);
        await cancellation.CancelAsync();
        Assert.False(second.IsCompleted);
        Write(pipe, "b");
        Assert.Equal("b", Text((await second).Buffer));
    }

    [Fact]
    public async Task Complete_WithUnflushedBytesAndAReadWaiting_CompletesItWithThemAsTheEnd()
    {
        var pipe = new ReceivePipe(SegmentSize);
        ValueTask<ReadResult> read = pipe.ReadAsync(CancellationToken.None);
        Span<byte> span = pipe.GetSpan(3);
        "end"u8.CopyTo(span);
        pipe.Advance(3);
        pipe.CompleteWriter();

        ReadResult result = await read;
        Assert.True(result.IsCompleted);
        Assert.Equal("end", Text(result.Buffer));
        pipe.AdvanceTo(result.Buffer.End);
        Assert.True(pipe.TryRead(out ReadResult after));
        Assert.True(after.IsCompleted);
        Assert.True(after.Buffer.IsEmpty);
        Assert.Throws<InvalidOperationException>(() => pipe.GetMemory(1));
    }

    [Fact]
    public async Task Write_LargerThanTheSegmentLeft_ChainsSegmentsAndTheReadSeesThemInOrder()
    {
        var pipe = new ReceivePipe(SegmentSize);
        string expected = Pattern(3 * SegmentSize + 100);
        var written = 0;
        while (written < expected.Length)
        {
            // Asks for more than the current segment has left about every other time.
            Memory<byte> memory = pipe.GetMemory(1000);
            var n = Math.Min(Math.Min(memory.Length, 1000), expected.Length - written);
            Encoding.ASCII.GetBytes(expected.AsSpan(written, n), memory.Span);
            pipe.Advance(n);
            written += n;
        }

        pipe.Flush();
        ReadResult result = await pipe.ReadAsync(CancellationToken.None);
        Assert.False(result.Buffer.IsSingleSegment);
        Assert.Equal(expected, Text(result.Buffer));

        // Consuming part of the second segment frees the first; consuming the rest frees them all.
        pipe.AdvanceTo(result.Buffer.GetPosition(SegmentSize + 10));
        Assert.True(pipe.TryRead(out ReadResult rest));
        Assert.Equal(expected[(SegmentSize + 10)..], Text(rest.Buffer));
        pipe.AdvanceTo(rest.Buffer.End);
        Assert.Equal(0, pipe.ArraysHeld);
    }

    [Fact]
    public async Task EverythingRead_WriterHoldsNoMemory_ThePipeHoldsNoArray()
    {
        var pipe = new ReceivePipe(SegmentSize);
        Write(pipe, "x");
        Assert.Equal(1, pipe.ArraysHeld);
        ReadResult result = await pipe.ReadAsync(CancellationToken.None);
        pipe.AdvanceTo(result.Buffer.End);
        Assert.Equal(0, pipe.ArraysHeld);

        // While the writer holds memory (between GetMemory and Flush) the array stays, and the next bytes land there.
        Write(pipe, "y");
        pipe.GetMemory(1);
        result = await pipe.ReadAsync(CancellationToken.None);
        Assert.Equal("y", Text(result.Buffer));
        pipe.AdvanceTo(result.Buffer.End);
        Assert.Equal(1, pipe.ArraysHeld);
        pipe.Advance(0);
        pipe.Flush();
        Write(pipe, "z");
        result = await pipe.ReadAsync(CancellationToken.None);
        Assert.Equal("z", Text(result.Buffer));
        pipe.AdvanceTo(result.Buffer.End);
        Assert.Equal(0, pipe.ArraysHeld);
    }

    [Fact]
    public async Task Complete_ByTheReader_ReturnsTheArraysAndLaterFlushesReportIt()
    {
        var pipe = new ReceivePipe(SegmentSize);
        Write(pipe, "unread");
        ReadResult result = await pipe.ReadAsync(CancellationToken.None);
        pipe.AdvanceTo(result.Buffer.Start);
        pipe.Complete();
        Assert.Equal(0, pipe.ArraysHeld);
        Assert.Throws<InvalidOperationException>(() => pipe.TryRead(out _));

        Span<byte> span = pipe.GetSpan(5);
        "later"u8.CopyTo(span);
        pipe.Advance(5);
        Assert.True(pipe.Flush().IsCompleted);
        Assert.Equal(0, pipe.ArraysHeld);
    }

    [Fact]
    public async Task ReadAsync_AnotherReadWaiting_Throws()
    {
        var pipe = new ReceivePipe(SegmentSize);
        ValueTask<ReadResult> first = pipe.ReadAsync(CancellationToken.None);
        Assert.Throws<InvalidOperationException>(() => { _ = pipe.ReadAsync(CancellationToken.None).AsTask(); });
        Write(pipe, "a");
        ReadResult result = await first;
        pipe.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public void Advance_BeyondTheMemoryGiven_Throws()
    {
        var pipe = new ReceivePipe(SegmentSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipe.Advance(1));
        Memory<byte> memory = pipe.GetMemory(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipe.Advance(memory.Length + 1));
    }

    [Fact]
    public async Task WriterAndReaderOnTwoThreads_RandomSizes_TheReaderSeesEveryByteInOrder()
    {
        const int Total = 4_000_000;
        var pipe = new ReceivePipe(SegmentSize);
        CancellationToken testCancellation = TestContext.Current.CancellationToken;
        var writer = Task.Run(() =>
        {
            var random = new Random(7);
            var position = 0;
            while (position < Total)
            {
                var count = Math.Min(random.Next(1, 3 * SegmentSize), Total - position);
                Span<byte> span = pipe.GetSpan(random.Next(2) == 0 ? 0 : count);
                count = Math.Min(count, span.Length);
                for (var i = 0; i < count; i++)
                {
                    span[i] = (byte)((position + i) % 251);
                }

                pipe.Advance(count);
                position += count;
                if (random.Next(3) != 0)
                {
                    pipe.Flush();
                }
            }

            pipe.CompleteWriter();
        }, testCancellation);

        var reader = Task.Run(async () =>
        {
            var random = new Random(11);
            long position = 0;
            while (true)
            {
                ReadResult result = await pipe.ReadAsync(CancellationToken.None);
                ReadOnlySequence<byte> buffer = result.Buffer;
                var take = random.Next(3) == 0 ? buffer.Length : Math.Min(buffer.Length, random.Next(0, 5000));
                foreach (ReadOnlyMemory<byte> segment in buffer.Slice(0, take))
                {
                    foreach (var b in segment.Span)
                    {
                        Assert.Equal((byte)(position % 251), b);
                        position++;
                    }
                }

                if (result.IsCompleted && take == buffer.Length)
                {
                    pipe.AdvanceTo(buffer.End);
                    return position;
                }

                pipe.AdvanceTo(buffer.GetPosition(take), buffer.End);
            }
        }, testCancellation);

        Assert.Equal(Total, await reader.WaitAsync(TimeSpan.FromSeconds(60), testCancellation));
        await writer.WaitAsync(TimeSpan.FromSeconds(60), testCancellation);
        Assert.Equal(0, pipe.ArraysHeld);
    }

    // A pipe holding text that a read has examined and not consumed: the next read waits for new bytes.
    private static async Task<ReceivePipe> PipeWithBytesExamined(string text)
    {
        var pipe = new ReceivePipe(SegmentSize);
        Write(pipe, text);
        ReadResult first = await pipe.ReadAsync(CancellationToken.None);
        pipe.AdvanceTo(first.Buffer.Start, first.Buffer.End);
        return pipe;
    }

    private static void Write(ReceivePipe pipe, string text)
    {
        Span<byte> span = pipe.GetSpan(text.Length);
        var n = Encoding.ASCII.GetBytes(text, span);
        pipe.Advance(n);
        pipe.Flush();
    }

    private static string Text(ReadOnlySequence<byte> buffer) => Encoding.ASCII.GetString(buffer);

    private static string Pattern(int length) =>
        string.Create(length, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i % 26));
            }
        });
}
