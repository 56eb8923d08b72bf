using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

public class StreamReaderReadTests : BoundedReaderTest
{
    [Fact]
    public async Task ReadAsync_Zero_ReturnsEmptyAndKeepsBuffer()
    {
        // ports test_read_zero
        var reader = Fed(Data);
        Assert.Empty(await reader.ReadAsync(0, Ct));
        Assert.Equal(Data, await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadAsync_Zero_ReturnsAtOnceWhenNothingIsBuffered()
    {
        var reader = new StreamReader();
        var pending = reader.ReadAsync(0, Ct);
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Empty(await pending);
    }

    [Fact]
    public async Task ReadAsync_PendingThenFed_ReturnsFedBytes()
    {
        // ports test_read
        var reader = new StreamReader();
        var pending = reader.ReadAsync(30, Ct);
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii(Data));
        Assert.Equal(Data, Text(await Within(pending)));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReadAsync_TwoFeeds_ReturnsAtMostN()
    {
        // ports test_read_line_breaks
        var reader = new StreamReader();
        reader.FeedData(Ascii("line1"));
        reader.FeedData(Ascii("line2"));
        Assert.Equal("line1", Text(await reader.ReadAsync(5, Ct)));
        Assert.Equal("line2", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadAsync_BytesFedWhileViewHeld_ReturnsEveryBufferedByteUpToN()
    {
        // asyncio returns min(n, len(buffer)) of the whole buffer, including bytes fed after the previous read.
        var reader = Fed("abc");
        Assert.Equal("a", Text(await reader.ReadAsync(1, Ct)));
        reader.FeedData(Ascii("def"));
        Assert.Equal("bcdef", Text(await reader.ReadAsync(10, Ct)));
    }

    [Fact]
    public async Task ReadAsync_EofWhilePending_ReturnsEmpty()
    {
        // ports test_read_eof
        var reader = new StreamReader();
        var pending = reader.ReadAsync(1024, Ct);
        reader.FeedEof();
        Assert.Empty(await Within(pending));
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task ReadAsync_MinusOne_ReadsUntilEof()
    {
        // ports test_read_until_eof
        var reader = new StreamReader();
        var pending = reader.ReadAsync(-1, Ct);
        reader.FeedData(Ascii("chunk1\n"));
        reader.FeedData(Ascii("chunk2"));
        Assert.False(pending.IsCompleted);
        reader.FeedEof();
        Assert.Equal("chunk1\nchunk2", Text(await Within(pending)));
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task ReadAsync_AfterSetException_ThrowsIt()
    {
        // ports test_read_exception
        var reader = Fed("line\n");
        Assert.Equal("li", Text(await reader.ReadAsync(2, Ct)));
        var error = new InvalidDataException();
        reader.SetException(error);
        Assert.Same(error, await Assert.ThrowsAsync<InvalidDataException>(async () => await reader.ReadAsync(2, Ct)));
    }

    [Fact]
    public async Task ReadAsync_NBeyondLimit_IsNotBoundedByLimit()
    {
        // ports test_read_limit
        var reader = Fed("chunk", limit: 3);
        Assert.Equal("chunk", Text(await reader.ReadAsync(5, Ct)));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReadAsync_MinusOneWithTinyLimit_ReadsEverythingThroughFlowControl()
    {
        // ports test_read_all_from_pipe_reader (CPython 3.12): a limit of 1 and more than 2 x limit bytes
        // arriving through the receive-loop seam; read(-1) must not deadlock on the paused receiver.
        var reader = new StreamReader(limit: 1);
        var pending = reader.ReadAsync(-1, Ct);
        var feeder = Task.Run(async () =>
        {
            foreach (var b in Ascii("data"))
            {
                reader.Input.GetSpan(1)[0] = b;
                reader.Input.Advance(1);
                await reader.Input.FlushAsync(Ct);
                await reader.WaitForRoomAsync(Ct);
            }

            reader.FeedEof();
        }, Ct);
        Assert.Equal("data", Text(await Within(pending)));
        await feeder.WaitAsync(ReadTimeout, Ct);
    }

    [Fact]
    public async Task ReadAsyncMemory_Buffered_CopiesUpToBufferLength()
    {
        var reader = Fed(Data);
        var destination = new byte[7];
        Assert.Equal(7, await reader.ReadAsync(destination.AsMemory(), Ct));
        Assert.Equal("line1\nl", Text(destination));
        var rest = new byte[100];
        Assert.Equal(11, await reader.ReadAsync(rest.AsMemory(), Ct));
        Assert.Equal("ine2\nline3\n", Text(rest[..11]));
    }

    [Fact]
    public async Task ReadAsyncMemory_PendingThenFed_ReturnsCount()
    {
        var reader = new StreamReader();
        var destination = new byte[4];
        var pending = reader.ReadAsync(destination.AsMemory(), Ct);
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii("ab"));
        Assert.Equal(2, await Within(pending));
        Assert.Equal("ab", Text(destination[..2]));
    }

    [Fact]
    public async Task ReadAsyncMemory_AtEof_ReturnsZero()
    {
        var reader = Fed("x");
        reader.FeedEof();
        var destination = new byte[4];
        Assert.Equal(1, await reader.ReadAsync(destination.AsMemory(), Ct));
        Assert.Equal(0, await reader.ReadAsync(destination.AsMemory(), Ct));
    }

    [Fact]
    public async Task ReadAsyncMemory_EmptyBuffer_ReturnsZeroAtOnce()
    {
        var reader = new StreamReader();
        var pending = reader.ReadAsync(Memory<byte>.Empty, Ct);
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(0, await pending);
    }

    [Fact]
    public async Task ReadAsync_LargeFeed_ReturnsAllBytesInOrder()
    {
        var data = new byte[1_000_003];
        new Random(5).NextBytes(data);
        var reader = new StreamReader();
        reader.FeedData(data);
        reader.FeedEof();
        Assert.Equal(data, await reader.ReadAsync(-1, Ct));
    }
}
