using System.Text;

namespace AsyncStreams.Tests;

// Shared helpers of the StreamReader*Tests files, and the construction and feeding cases.
internal static class ReaderTestKit
{
    // CPython's StreamTests.DATA.
    public const string Data = "line1\nline2\nline3\n";

    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static string Text(byte[] bytes) => Encoding.ASCII.GetString(bytes);

    public static StreamReader Fed(string text, int limit = Streams.DefaultLimit)
    {
        var reader = new StreamReader(limit);
        reader.FeedData(Ascii(text));
        return reader;
    }

    // What asyncio's tests read as `stream._buffer`: ends the stream and reads what is left. Only for the end of a test.
    public static async Task<string> RemainingAsync(StreamReader reader)
    {
        reader.FeedEof();
        return Text(await reader.ReadAsync(-1, TestContext.Current.CancellationToken));
    }

    // Awaits a pending read, failing the test instead of hanging when it never completes.
    public static Task<T> Within<T>(ValueTask<T> pending) =>
        pending.AsTask().WaitAsync(ReadTimeout, TestContext.Current.CancellationToken);

    public static Task Within(ValueTask pending) =>
        pending.AsTask().WaitAsync(ReadTimeout, TestContext.Current.CancellationToken);
}

public class StreamReaderTests
{
    [Fact]
    public void Constructor_NonPositiveLimit_ThrowsArgumentOutOfRange()
    {
        // ports test_invalid_limit
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamReader(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamReader(-1));
    }

    [Fact]
    public void Constructor_Default_UsesDefaultLimit()
    {
        var reader = new StreamReader();
        Assert.Equal(Streams.DefaultLimit, reader.Limit);
        Assert.Equal(7, new StreamReader(7).Limit);
        Assert.False(reader.AtEof);
        Assert.Null(reader.Exception);
    }

    [Fact]
    public void FeedData_Empty_BuffersNothing()
    {
        // ports test_feed_empty_data
        var reader = new StreamReader();
        reader.FeedData([]);
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public async Task FeedData_NonEmpty_BuffersEveryByte()
    {
        // ports test_feed_nonempty_data
        var reader = ReaderTestKit.Fed(ReaderTestKit.Data);
        Assert.Equal(ReaderTestKit.Data.Length, reader.BufferedBytes);
        Assert.Equal(ReaderTestKit.Data, await ReaderTestKit.RemainingAsync(reader));
    }

    [Fact]
    public void FeedData_AfterFeedEof_ThrowsInvalidOperation()
    {
        var reader = new StreamReader();
        reader.FeedEof();
        Assert.Throws<InvalidOperationException>(() => reader.FeedData(ReaderTestKit.Ascii("x")));
        Assert.Throws<InvalidOperationException>(() => reader.FeedData([]));
    }

    [Fact]
    public void FeedEof_Twice_IsHarmless()
    {
        var reader = new StreamReader();
        reader.FeedEof();
        reader.FeedEof();
        Assert.True(reader.AtEof);
    }

    [Fact]
    public async Task AtEof_AfterFeedEofAndLastRead_IsTrue()
    {
        // ports test_at_eof
        var ct = TestContext.Current.CancellationToken;
        var reader = new StreamReader();
        Assert.False(reader.AtEof);

        reader.FeedData(ReaderTestKit.Ascii("some data\n"));
        Assert.False(reader.AtEof);

        await reader.ReadLineAsync(ct);
        Assert.False(reader.AtEof);

        reader.FeedData(ReaderTestKit.Ascii("some data\n"));
        reader.FeedEof();
        Assert.False(reader.AtEof);
        await reader.ReadLineAsync(ct);
        Assert.True(reader.AtEof);
    }

    [Fact]
    public void ToString_Default_IsBareName()
    {
        // ports test___repr__
        Assert.Equal("<StreamReader>", new StreamReader().ToString());
    }

    [Fact]
    public void ToString_NonDefaultLimit_ShowsLimit()
    {
        // ports test___repr__nondefault_limit
        Assert.Equal("<StreamReader limit=123>", new StreamReader(123).ToString());
    }

    [Fact]
    public void ToString_Eof_ShowsEof()
    {
        // ports test___repr__eof
        var reader = new StreamReader();
        reader.FeedEof();
        Assert.Equal("<StreamReader eof>", reader.ToString());
    }

    [Fact]
    public void ToString_Data_ShowsBufferedBytes()
    {
        // ports test___repr__data
        Assert.Equal("<StreamReader 4 bytes>", ReaderTestKit.Fed("data").ToString());
    }

    [Fact]
    public void ToString_Exception_ShowsExceptionType()
    {
        // ports test___repr__exception
        var reader = new StreamReader();
        reader.SetException(new InvalidOperationException());
        Assert.Equal("<StreamReader exception=InvalidOperationException>", reader.ToString());
    }

    [Fact]
    public async Task ToString_PendingRead_ShowsWaiter()
    {
        // ports test___repr__waiter
        var reader = new StreamReader();
        var pending = reader.ReadLineAsync(TestContext.Current.CancellationToken);
        Assert.Equal("<StreamReader waiter=ReadLineAsync>", reader.ToString());
        reader.FeedData(ReaderTestKit.Ascii("x\n"));
        await ReaderTestKit.Within(pending);
        Assert.Equal("<StreamReader>", reader.ToString());
    }
}
