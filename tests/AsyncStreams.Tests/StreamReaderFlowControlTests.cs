using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

// The receive-loop seam: Input, WaitForRoomAsync and BufferedBytes (asyncio's pause_reading / resume_reading).
public class StreamReaderFlowControlTests : BoundedReaderTest
{
    [Fact]
    public async Task WaitForRoomAsync_AtMostTwiceLimitBuffered_CompletesSynchronously()
    {
        var reader = Fed("12345678", limit: 4);
        var room = reader.WaitForRoomAsync(Ct);
        Assert.True(room.IsCompletedSuccessfully);
        await room;

        reader.FeedData(Ascii("9"));
        var paused = reader.WaitForRoomAsync(Ct);
        Assert.False(paused.IsCompleted);
        reader.FeedEof();
        await Within(paused);
    }

    [Fact]
    public async Task WaitForRoomAsync_Paused_ResumesOnceBufferedFallsToLimit()
    {
        var reader = Fed("0123456789", limit: 4);
        var paused = reader.WaitForRoomAsync(Ct);
        Assert.False(paused.IsCompleted);

        await reader.ReadExactlyAsync(5, Ct);
        Assert.Equal(5, reader.BufferedBytes);
        Assert.False(paused.IsCompleted);

        await reader.ReadExactlyAsync(1, Ct);
        Assert.Equal(4, reader.BufferedBytes);
        await Within(paused);
    }

    [Fact]
    public async Task WaitForRoomAsync_Paused_ResumesWhenReadWaitsForMoreThanBuffered()
    {
        var reader = Fed("0123456789", limit: 4);
        var paused = reader.WaitForRoomAsync(Ct);
        Assert.False(paused.IsCompleted);

        var read = reader.ReadExactlyAsync(20, Ct);
        Assert.False(read.IsCompleted);
        await Within(paused);
        Assert.Equal(10, reader.BufferedBytes);

        reader.FeedData(Ascii("abcdefghij"));
        Assert.Equal("0123456789abcdefghij", Text(await Within(read)));
    }

    [Fact]
    public async Task WaitForRoomAsync_ReadAlreadyWaiting_CompletesSynchronously()
    {
        var reader = new StreamReader(limit: 4);
        var read = reader.ReadAsync(-1, Ct);
        reader.FeedData(Ascii("0123456789"));
        var room = reader.WaitForRoomAsync(Ct);
        Assert.True(room.IsCompletedSuccessfully);
        await room;
        reader.FeedEof();
        Assert.Equal("0123456789", Text(await Within(read)));
    }

    [Fact]
    public async Task WaitForRoomAsync_Paused_ResumesOnFeedEof()
    {
        var reader = Fed("0123456789", limit: 4);
        var paused = reader.WaitForRoomAsync(Ct);
        Assert.False(paused.IsCompleted);
        reader.FeedEof();
        await Within(paused);
        var room = reader.WaitForRoomAsync(Ct);
        Assert.True(room.IsCompletedSuccessfully);
        await room;
    }

    [Fact]
    public async Task WaitForRoomAsync_Cancelled_ThrowsAndLaterWaitsWork()
    {
        var reader = Fed("0123456789", limit: 4);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var paused = reader.WaitForRoomAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(paused));

        var again = reader.WaitForRoomAsync(Ct);
        Assert.False(again.IsCompleted);
        await reader.ReadExactlyAsync(6, Ct);
        await Within(again);
    }

    [Fact]
    public async Task BufferedBytes_InputWrites_CountOnlyFlushedBytes()
    {
        var reader = new StreamReader();
        "abc"u8.CopyTo(reader.Input.GetSpan(3));
        reader.Input.Advance(3);
        Assert.Equal(0, reader.BufferedBytes);
        Assert.Equal(3, reader.Input.UnflushedBytes);

        await reader.Input.FlushAsync(Ct);
        Assert.Equal(3, reader.BufferedBytes);

        reader.FeedData(Ascii("de\n"));
        Assert.Equal(6, reader.BufferedBytes);
        Assert.Equal("abcde\n", Text(await reader.ReadLineAsync(Ct)));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReceiveLoop_SlowLineReader_BuffersAtMostTwiceLimitPlusOneReceive()
    {
        // Each received chunk is written into the pipe and flushed, as the transport does.
        const int limit = 1024;
        const int chunk = 100;
        var reader = new StreamReader(limit);
        long maxBuffered = 0;
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = Ascii(new string('x', 49) + "\n");
        var receiveLoop = RunReceiveLoop(reader, 2_000, paused, async _ =>
        {
            var memory = reader.Input.GetMemory(chunk);
            received.CopyTo(memory);
            received.CopyTo(memory[50..]);
            reader.Input.Advance(chunk);
            await reader.Input.FlushAsync(Ct);
            maxBuffered = Math.Max(maxBuffered, reader.BufferedBytes);
        });

        // The loop fills the buffer and pauses before anything is read.
        await paused.Task.WaitAsync(ReadTimeout, Ct);
        Assert.Equal(((2 * limit / chunk) + 1) * chunk, reader.BufferedBytes);

        var lines = 0;
        await foreach (var line in reader.WithCancellation(Ct))
        {
            Assert.Equal(50, line.Length);
            lines++;
        }

        await receiveLoop.WaitAsync(ReadTimeout, Ct);
        Assert.Equal(4_000, lines);
        Assert.InRange(maxBuffered, 2 * limit + 1, 2 * limit + chunk);
    }

    [Fact]
    public async Task ReceiveLoop_PausingWhileReadsConsumeOnAnotherThread_NeverMissesAResume()
    {
        // The receive loop pauses after nearly every chunk (the limit is below one chunk) while reads on a
        // thread-pool thread consume at the same time: the pause and the reads' progress race again and again,
        // and one missed resume would leave the loop paused and the reader waiting until the timeout fails the test.
        const int limit = 40;
        const int chunk = 100;
        const int chunks = 20_000;
        var reader = new StreamReader(limit);
        var firstPause = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var data = new byte[chunk];
        var receiveLoop = RunReceiveLoop(reader, chunks, firstPause, i =>
        {
            data.AsSpan().Fill((byte)('a' + (i % 26)));
            reader.FeedData(data);
            return ValueTask.CompletedTask;
        });

        // Nothing reads before the loop has paused once, so the loop is paused at least that time.
        await firstPause.Task.WaitAsync(ReadTimeout, Ct);
        var reads = Task.Run(async () =>
        {
            var record = new byte[chunk / 2];
            for (var i = 0; i < chunks * 2; i++)
            {
                await reader.ReadExactlyAsync(record.AsMemory(), Ct);
                var expected = (byte)('a' + (i / 2 % 26));
                Assert.True(record.AsSpan().IndexOfAnyExcept(expected) < 0, $"record {i} holds bytes of another chunk");

                // A read that waited goes on inline on the feeding thread; back to the pool, so that the next
                // reads run beside the loop instead of inside its FeedData.
                await Task.Yield();
            }

            return await reader.ReadAsync(-1, Ct);
        }, Ct);

        await receiveLoop.WaitAsync(ReadTimeout, Ct);
        Assert.Empty(await reads.WaitAsync(ReadTimeout, Ct));
    }

    // A receive loop as the transport runs it, on the thread pool: feed chunk i, wait for room, and so on, then the
    // end of the stream. The first wait that does not complete at once sets paused.
    private Task RunReceiveLoop(StreamReader reader, int chunks, TaskCompletionSource paused, Func<int, ValueTask> feedChunk) =>
        Task.Run(async () =>
        {
            for (var i = 0; i < chunks; i++)
            {
                await feedChunk(i);
                var room = reader.WaitForRoomAsync(Ct);
                if (!room.IsCompleted)
                {
                    paused.TrySetResult();
                }

                await room;
            }

            reader.FeedEof();
        }, Ct);
}
