using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

public class StreamReaderReadLineTests : BoundedReaderTest
{
    [Fact]
    public async Task ReadLineAsync_LineCompletedByLaterFeeds_ReturnsWholeLine()
    {
        // ports test_readline
        var reader = Fed("chunk1 ");
        var pending = reader.ReadLineAsync(Ct);
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii("chunk2 "));
        reader.FeedData(Ascii("chunk3 "));
        reader.FeedData(Ascii("\n chunk4"));
        Assert.Equal("chunk1 chunk2 chunk3 \n", Text(await Within(pending)));
        Assert.Equal(" chunk4", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadLineAsync_LimitOverrunWithSeparatorBuffered_DropsThroughSeparator()
    {
        // ports test_readline_limit_with_existing_data (first half)
        var reader = new StreamReader(limit: 3);
        reader.FeedData(Ascii("li"));
        reader.FeedData(Ascii("ne1\nline2\n"));
        var error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync(Ct));
        Assert.Equal(5, error.Consumed);
        Assert.Equal("line2\n", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadLineAsync_LimitOverrunWithoutSeparator_DropsWholeBuffer()
    {
        // ports test_readline_limit_with_existing_data (second half)
        var reader = new StreamReader(limit: 3);
        reader.FeedData(Ascii("li"));
        reader.FeedData(Ascii("ne1"));
        reader.FeedData(Ascii("li"));
        var error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync(Ct));
        Assert.Equal(7, error.Consumed);
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReadLineAsync_OverlongLineDeliveredAtOnce_DropsItAll()
    {
        // ports test_readline_limit (first case): asyncio's callback feeds the three chunks before the pending
        // readline runs, so it sees them as one delivery.
        var reader = new StreamReader(limit: 7);
        var pending = reader.ReadLineAsync(Ct);
        reader.FeedData(Ascii("chunk1chunk2chunk3\n"));
        reader.FeedEof();
        var error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await Within(pending));
        Assert.Equal(18, error.Consumed);
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task ReadLineAsync_OverlongLineDeliveredInChunks_DropsWhatWasSeenWhenLimitPassed()
    {
        // The first case of test_readline_limit with every chunk waking the read, as separate socket receives
        // do in asyncio: the overrun is found at 12 bytes, the buffer (no separator yet) is dropped, and the rest
        // of the line arrives afterwards.
        var reader = new StreamReader(limit: 7);
        var pending = reader.ReadLineAsync(Ct);
        reader.FeedData(Ascii("chunk1"));
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii("chunk2"));
        var error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await Within(pending));
        Assert.Equal(12, error.Consumed);
        reader.FeedData(Ascii("chunk3\n"));
        Assert.Equal("chunk3\n", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadLineAsync_OverlongLineThenNextLine_KeepsNextLine()
    {
        // ports test_readline_limit (second case)
        var reader = new StreamReader(limit: 7);
        var pending = reader.ReadLineAsync(Ct);
        reader.FeedData(Ascii("chunk1"));
        reader.FeedData(Ascii("chunk2\n"));
        reader.FeedData(Ascii("chunk3\n"));
        reader.FeedEof();
        var error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await Within(pending));
        Assert.Equal(12, error.Consumed);
        Assert.Equal("chunk3\n", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadLineAsync_LineOfExactlyLimit_IsAcceptedAndOneMoreIsNot()
    {
        // ports test_readline_limit (strictness of the limit)
        var reader = Fed("1234567\n", limit: 7);
        Assert.Equal("1234567\n", Text(await reader.ReadLineAsync(Ct)));
        Assert.Equal(0, reader.BufferedBytes);

        reader.FeedData(Ascii("12345678\n"));
        await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync(Ct));
        Assert.Equal(0, reader.BufferedBytes);

        reader.FeedData(Ascii("12345678"));
        await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync(Ct));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReadLineAsync_LineBuffered_ReturnsFirstLineOnly()
    {
        // ports test_readline_nolimit_nowait
        var reader = new StreamReader();
        reader.FeedData(Ascii(Data[..6]));
        reader.FeedData(Ascii(Data[6..]));
        var pending = reader.ReadLineAsync(Ct);
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal("line1\n", Text(await pending));
        Assert.Equal("line2\nline3\n", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadLineAsync_EofWithoutNewline_ReturnsPartialLine()
    {
        // ports test_readline_eof
        var reader = Fed("some data");
        reader.FeedEof();
        Assert.Equal("some data", Text(await reader.ReadLineAsync(Ct)));
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task ReadLineAsync_EofWithNothingBuffered_ReturnsEmpty()
    {
        // ports test_readline_empty_eof
        var reader = new StreamReader();
        reader.FeedEof();
        Assert.Empty(await reader.ReadLineAsync(Ct));
    }

    [Fact]
    public async Task ReadLineAsync_ThenReadAsync_CountsBytesFromLineEnd()
    {
        // ports test_readline_read_byte_count
        var reader = Fed(Data);
        await reader.ReadLineAsync(Ct);
        Assert.Equal("line2\nl", Text(await reader.ReadAsync(7, Ct)));
        Assert.Equal("ine3\n", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadLineAsync_AfterSetException_ThrowsItWithDataBuffered()
    {
        // ports test_readline_exception
        var reader = Fed("line\n");
        Assert.Equal("line\n", Text(await reader.ReadLineAsync(Ct)));
        var error = new InvalidDataException();
        reader.SetException(error);
        Assert.Same(error, await Assert.ThrowsAsync<InvalidDataException>(async () => await reader.ReadLineAsync(Ct)));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReadLineAsync_LineCrossingSegments_ReturnsItWhole()
    {
        // A line longer than a pipe segment, fed in pieces, crosses segment boundaries.
        var line = new string('x', 20_000) + "\n";
        var reader = new StreamReader();
        var pending = reader.ReadLineAsync(Ct);
        for (var i = 0; i < line.Length; i += 1000)
        {
            reader.FeedData(Ascii(line.Substring(i, Math.Min(1000, line.Length - i))));
        }

        Assert.Equal(line, Text(await Within(pending)));
    }

    [Fact]
    public async Task GetAsyncEnumerator_Lines_YieldsEachLineUntilEof()
    {
        // asyncio's `async for line in reader`
        var reader = Fed(Data + "tail");
        reader.FeedEof();
        var lines = new List<string>();
        await foreach (var line in reader.WithCancellation(Ct))
        {
            lines.Add(Text(line));
        }

        Assert.Equal(["line1\n", "line2\n", "line3\n", "tail"], lines);
    }

    [Fact]
    public async Task GetAsyncEnumerator_FeederOnAnotherThread_YieldsLinesAsTheyArrive()
    {
        var reader = new StreamReader();
        var feeder = Task.Run(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                reader.FeedData(Ascii($"line {i}\n"));
            }

            reader.FeedEof();
        }, Ct);
        var count = 0;
        await foreach (var line in reader.WithCancellation(Ct))
        {
            Assert.Equal($"line {count}\n", Text(line));
            count++;
        }

        Assert.Equal(100, count);
        await feeder;
    }
}
