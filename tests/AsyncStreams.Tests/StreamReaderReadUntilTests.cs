using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

public class StreamReaderReadUntilTests : BoundedReaderTest
{
    private static ReadOnlyMemory<byte>[] Separators(params string[] separators) =>
        [.. separators.Select(s => (ReadOnlyMemory<byte>)Ascii(s))];

    [Fact]
    public async Task ReadUntilAsync_EmptySeparatorOrList_ThrowsArgumentException()
    {
        // ports test_readuntil_separator
        var reader = Fed(Data);
        await Assert.ThrowsAsync<ArgumentException>(async () => await reader.ReadUntilAsync(ReadOnlyMemory<byte>.Empty, Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await reader.ReadUntilAsync(Separators(""), Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await reader.ReadUntilAsync(Separators("\n", ""), Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await reader.ReadUntilAsync(Separators(), Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await reader.ReadUntilAsync((IReadOnlyList<ReadOnlyMemory<byte>>)null!, Ct));
        Assert.Equal(Data, await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_MultiByteSeparator_ReturnsChunkWithSeparator()
    {
        // ports test_readuntil_multi_chunks
        var reader = Fed("lineAAA");
        Assert.Equal("lineAAA", Text(await reader.ReadUntilAsync(Ascii("AAA"), Ct)));
        Assert.Equal(0, reader.BufferedBytes);

        reader.FeedData(Ascii("lineAAA"));
        Assert.Equal("lineAAA", Text(await reader.ReadUntilAsync(Ascii("AAA"), Ct)));
        Assert.Equal(0, reader.BufferedBytes);

        reader.FeedData(Ascii("lineAAAxxx"));
        Assert.Equal("lineAAA", Text(await reader.ReadUntilAsync(Ascii("AAA"), Ct)));
        Assert.Equal("xxx", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_SeparatorSpreadOverFeeds_FindsFirstCompleteMatch()
    {
        // ports test_readuntil_multi_chunks_1
        var reader = new StreamReader();
        async Task Check(string expected, params string[] feeds)
        {
            foreach (var feed in feeds)
            {
                reader.FeedData(Ascii(feed));
            }

            Assert.Equal(expected, Text(await reader.ReadUntilAsync(Ascii("aaa"), Ct)));
            Assert.Equal(0, reader.BufferedBytes);
        }

        await Check("QWEaaXYaaa", "QWEaa", "XYaa", "a");
        await Check("QWEaaXYaaa", "QWEaa", "XYa", "aa");
        await Check("aaa", "aaa");
        await Check("Xaaa", "Xaaa");
        await Check("XXXaaa", "XXX", "a", "a", "a");
    }

    [Fact]
    public async Task ReadUntilAsync_SeparatorSpreadOverPendingFeeds_FindsFirstCompleteMatch()
    {
        // test_readuntil_multi_chunks_1 with the read pending while the pieces arrive one by one.
        var reader = new StreamReader();
        var pending = reader.ReadUntilAsync(Ascii("aaa"), Ct);
        foreach (var feed in new[] { "XXX", "a", "a" })
        {
            reader.FeedData(Ascii(feed));
            Assert.False(pending.IsCompleted);
        }

        reader.FeedData(Ascii("aX"));
        Assert.Equal("XXXaaa", Text(await Within(pending)));
        Assert.Equal("X", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_EofBeforeSeparator_ThrowsIncompleteReadWithEverything()
    {
        // ports test_readuntil_eof
        var reader = Fed("some dataAA");
        reader.FeedEof();
        var error = await Assert.ThrowsAsync<IncompleteReadException>(async () => await reader.ReadUntilAsync(Ascii("AAA"), Ct));
        Assert.Equal("some dataAA", Text(error.Partial));
        Assert.Null(error.Expected);
        Assert.Equal("11 bytes read before the end of the stream; the separator was not found", error.Message);
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task ReadUntilAsync_NotFoundThenFoundBeyondLimit_ThrowsLimitOverrunAndKeepsData()
    {
        // ports test_readuntil_limit_found_sep
        var reader = Fed("some dataAA", limit: 3);
        var notFound = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadUntilAsync(Ascii("AAA"), Ct));
        Assert.Contains("not found", notFound.Message, StringComparison.Ordinal);
        Assert.Equal(9, notFound.Consumed);
        Assert.Equal(11, reader.BufferedBytes);

        reader.FeedData(Ascii("A"));
        var found = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadUntilAsync(Ascii("AAA"), Ct));
        Assert.Contains("is found", found.Message, StringComparison.Ordinal);
        Assert.Equal(9, found.Consumed);
        Assert.Equal("some dataAAA", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_NotFoundWhilePending_ConsumedIsAsyncioOffset()
    {
        // asyncio's offset: buffer length + 1 - separator length, checked each time data arrives.
        var reader = new StreamReader(limit: 4);
        var pending = reader.ReadUntilAsync(Ascii("\r\n"), Ct);
        reader.FeedData(Ascii("abcd"));
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii("e"));
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii("f"));
        var error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await Within(pending));
        Assert.Equal(5, error.Consumed);
        Assert.Equal("abcdef", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_ChunkOfExactlyLimitWithMultiByteSeparator_IsAccepted()
    {
        var reader = new StreamReader(limit: 4);
        var pending = reader.ReadUntilAsync(Ascii("\r\n"), Ct);
        reader.FeedData(Ascii("abcd\r"));
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii("\nrest"));
        Assert.Equal("abcd\r\n", Text(await Within(pending)));
        Assert.Equal("rest", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_SeveralSeparators_EndsAtFirstMatchEnd()
    {
        // ports test_readuntil_multi_separator
        var reader = Fed("line 1\nline 2\r");
        Assert.Equal("line 1\n", Text(await reader.ReadUntilAsync(Separators("\r", "\n"), Ct)));
        Assert.Equal("line 2\r", Text(await reader.ReadUntilAsync(Separators("\r", "\n"), Ct)));
        Assert.Equal(0, reader.BufferedBytes);

        reader.FeedData(Ascii("ABCDEFG"));
        Assert.Equal("ABCDE", Text(await reader.ReadUntilAsync(Separators("DEF", "BCDE"), Ct)));
        Assert.Equal("FG", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_SeveralSeparatorsEndingTogether_ShorterOneDecidesLimit()
    {
        // ports test_readuntil_multi_separator_limit
        var reader = Fed("some dataA", limit: 3);
        var error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadUntilAsync(Separators("A", "ome dataA"), Ct));
        Assert.Contains("is found", error.Message, StringComparison.Ordinal);
        Assert.Equal(9, error.Consumed);
        Assert.Equal("some dataA", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_BufferShorterThanLongestSeparator_KeepsOffsetAtZero()
    {
        // ports test_readuntil_multi_separator_negative_offset
        var reader = Fed("data");
        var pending = reader.ReadUntilAsync(Separators("A", "long sep"), Ct);
        reader.FeedData(Ascii("Z"));
        reader.FeedData(Ascii("Aaaa"));
        Assert.Equal("dataZA", Text(await Within(pending)));
        Assert.Equal("aaa", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadUntilAsync_SeparatorFromArraySegment_IsAccepted()
    {
        // ports test_readuntil_bytearray: any memory holding the separator works.
        var reader = Fed("some data\r\n");
        var separator = new ArraySegment<byte>(Ascii("xx\r\nxx"), 2, 2);
        Assert.Equal("some data\r\n", Text(await reader.ReadUntilAsync(separator.AsMemory(), Ct)));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReadUntilAsync_SeparatorCrossingSegments_IsFound()
    {
        // Pipe segments are 4 KiB: around that size the separator straddles two segments at one of these splits.
        for (var size = 4090; size <= 4100; size++)
        {
            var head = new string('x', size);
            var reader = Fed(head + "SE");
            reader.FeedData(Ascii("P" + new string('y', 5000)));
            reader.FeedData(Ascii("tail"));
            Assert.Equal(head + "SEP", Text(await reader.ReadUntilAsync(Ascii("SEP"), Ct)));
            Assert.Equal(new string('y', 5000) + "tail", await RemainingAsync(reader));
        }
    }
}
