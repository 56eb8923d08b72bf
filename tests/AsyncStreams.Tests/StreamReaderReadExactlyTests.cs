using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

public class StreamReaderReadExactlyTests : BoundedReaderTest
{
    [Fact]
    public async Task ReadExactlyAsync_ZeroOrNegative_ReturnsEmptyOrThrowsAndKeepsBuffer()
    {
        // ports test_readexactly_zero_or_less
        var reader = Fed(Data);
        Assert.Empty(await reader.ReadExactlyAsync(0, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await reader.ReadExactlyAsync(-1, Ct));
        Assert.Equal(Data, await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadExactlyAsync_MoreThanOneFeed_WaitsForAllBytes()
    {
        // ports test_readexactly
        var reader = new StreamReader();
        var n = 2 * Data.Length;
        var pending = reader.ReadExactlyAsync(n, Ct);
        reader.FeedData(Ascii(Data));
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii(Data));
        reader.FeedData(Ascii(Data));
        Assert.Equal(Data + Data, Text(await Within(pending)));
        Assert.Equal(Data, await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadExactlyAsync_BeyondLimit_IsNotBoundedByLimit()
    {
        // ports test_readexactly_limit
        var reader = Fed("chunk", limit: 3);
        Assert.Equal("chunk", Text(await reader.ReadExactlyAsync(5, Ct)));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task ReadExactlyAsync_EofFirst_ThrowsIncompleteReadWithAsyncioMessage()
    {
        // ports test_readexactly_eof
        var reader = new StreamReader();
        var n = 2 * Data.Length;
        var pending = reader.ReadExactlyAsync(n, Ct);
        reader.FeedData(Ascii(Data));
        reader.FeedEof();
        var error = await Assert.ThrowsAsync<IncompleteReadException>(async () => await Within(pending));
        Assert.Equal(Data, Text(error.Partial));
        Assert.Equal(n, error.Expected);
        Assert.Equal("18 bytes read on a total of 36 expected bytes", error.Message);
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task ReadExactlyAsync_AfterSetException_ThrowsIt()
    {
        // ports test_readexactly_exception
        var reader = Fed("line\n");
        Assert.Equal("li", Text(await reader.ReadExactlyAsync(2, Ct)));
        var error = new InvalidDataException();
        reader.SetException(error);
        Assert.Same(error, await Assert.ThrowsAsync<InvalidDataException>(async () => await reader.ReadExactlyAsync(2, Ct)));
    }

    [Fact]
    public async Task ReadExactlyAsyncMemory_PendingThenFed_FillsBuffer()
    {
        var reader = Fed("ab");
        var destination = new byte[5];
        var pending = reader.ReadExactlyAsync(destination.AsMemory(), Ct);
        Assert.False(pending.IsCompleted);
        reader.FeedData(Ascii("cdefg"));
        await Within(pending);
        Assert.Equal("abcde", Text(destination));
        Assert.Equal("fg", await RemainingAsync(reader));
    }

    [Fact]
    public async Task ReadExactlyAsyncMemory_EofFirst_ThrowsIncompleteReadAndEmptiesBuffer()
    {
        var reader = Fed("abc");
        reader.FeedEof();
        var destination = new byte[5];
        var error = await Assert.ThrowsAsync<IncompleteReadException>(async () => await reader.ReadExactlyAsync(destination.AsMemory(), Ct));
        Assert.Equal("abc", Text(error.Partial));
        Assert.Equal(5, error.Expected);
        Assert.Equal("3 bytes read on a total of 5 expected bytes", error.Message);
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task ReadExactlyAsyncMemory_Empty_CompletesAtOnce()
    {
        var reader = new StreamReader();
        var pending = reader.ReadExactlyAsync(Memory<byte>.Empty, Ct);
        Assert.True(pending.IsCompletedSuccessfully);
        await pending;
    }

    [Fact]
    public async Task ReadExactlyAsync_FarBeyondTwiceLimitThroughReceiveLoop_DoesNotDeadlock()
    {
        // asyncio's _wait_for_data resumes a paused transport so readexactly(n) with n > 2 x limit completes.
        var reader = new StreamReader(limit: 16);
        var data = new byte[1000];
        new Random(3).NextBytes(data);
        var pending = reader.ReadExactlyAsync(data.Length, Ct);
        var receiveLoop = Task.Run(async () =>
        {
            for (var i = 0; i < data.Length; i += 10)
            {
                data.AsSpan(i, 10).CopyTo(reader.Input.GetSpan(10));
                reader.Input.Advance(10);
                await reader.Input.FlushAsync(Ct);
                await reader.WaitForRoomAsync(Ct);
            }
        }, Ct);
        Assert.Equal(data, await Within(pending));
        await receiveLoop.WaitAsync(ReadTimeout, Ct);
    }
}
