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

    // Runs a feeder on a thread of its own. A read it wakes goes on inline on that thread (the pipe's reader
    // scheduler is inline), and so may the test's continuation: awaiting the returned task is safe there,
    // whereas Thread.Join would wait for itself.
    public static Task OnOtherThread(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}

// Bounds every read of a test: the token its reads get is cancelled after ReadTimeout, so a read that never
// completes fails the test instead of hanging the run.
public abstract class BoundedReaderTest : IDisposable
{
    private readonly CancellationTokenSource _timeout =
        CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    protected BoundedReaderTest() => _timeout.CancelAfter(ReaderTestKit.ReadTimeout);

    protected CancellationToken Ct => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        GC.SuppressFinalize(this);
    }
}

public class StreamReaderTests : BoundedReaderTest
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
        var ct = Ct;
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
        var pending = reader.ReadLineAsync(Ct);
        Assert.Equal("<StreamReader waiter=ReadLineAsync>", reader.ToString());
        reader.FeedData(ReaderTestKit.Ascii("x\n"));
        await ReaderTestKit.Within(pending);
        Assert.Equal("<StreamReader>", reader.ToString());
    }
}

// Every read operation of StreamReader behind one signature, for tests that must hold for each of them.
// A read "of size n" means: n bytes for ReadAsync and ReadExactlyAsync, a line for ReadLineAsync, and a chunk
// up to "\n" for ReadUntilAsync(separator) and up to "\r\n", "<|>" or "\n" for ReadUntilAsync(separators).
// Continuations run where the read completes (ConfigureAwait(false)), so a read woken by FeedData goes on inline.
internal static class ReadKind
{
    public const string Read = "ReadAsync(n)";
    public const string ReadMemory = "ReadAsync(Memory)";
    public const string ReadToEnd = "ReadAsync(-1)";
    public const string ReadExactly = "ReadExactlyAsync(n)";
    public const string ReadExactlyMemory = "ReadExactlyAsync(Memory)";
    public const string ReadLine = "ReadLineAsync";
    public const string ReadUntil = "ReadUntilAsync(separator)";
    public const string ReadUntilAny = "ReadUntilAsync(separators)";

    public static readonly string[] All = [Read, ReadMemory, ReadToEnd, ReadExactly, ReadExactlyMemory, ReadLine, ReadUntil, ReadUntilAny];

    public static readonly ReadOnlyMemory<byte>[] Separators = ["\r\n"u8.ToArray(), "<|>"u8.ToArray(), "\n"u8.ToArray()];

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    public static async Task<byte[]> RunAsync(string kind, StreamReader reader, int n, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case Read:
                return await reader.ReadAsync(n, cancellationToken).ConfigureAwait(false);
            case ReadMemory:
            {
                var buffer = new byte[n];
                var count = await reader.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                return buffer[..count];
            }

            case ReadToEnd:
                return await reader.ReadAsync(-1, cancellationToken).ConfigureAwait(false);
            case ReadExactly:
                return await reader.ReadExactlyAsync(n, cancellationToken).ConfigureAwait(false);
            case ReadExactlyMemory:
            {
                var buffer = new byte[n];
                await reader.ReadExactlyAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                return buffer;
            }

            case ReadLine:
                return await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            case ReadUntil:
                return await reader.ReadUntilAsync(NewLine, cancellationToken).ConfigureAwait(false);
            case ReadUntilAny:
                return await reader.ReadUntilAsync(Separators, cancellationToken).ConfigureAwait(false);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown read kind.");
        }
    }
}
