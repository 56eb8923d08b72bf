using System.Runtime.ExceptionServices;
using System.Text;
using AsyncStreams.Internal;

namespace AsyncStreams;

/// <summary>
/// Reads a byte stream with asyncio's buffered read operations: lines, chunks up to a separator, exact counts,
/// and whatever is available.
/// </summary>
/// <remarks>
/// <para>asyncio equivalent: <c>asyncio.StreamReader</c>. A reader can be used stand-alone: construct it, feed it
/// with <see cref="FeedData"/> and <see cref="FeedEof"/>, and read. On a connection the receive loop feeds it.</para>
/// <para>One read may be pending at a time. Cancelling a read never loses data: a cancelled read consumes
/// nothing, so the next read sees every byte.</para>
/// </remarks>
public sealed partial class StreamReader : IAsyncEnumerable<byte[]>
{
    // Segments of at least this size keep lines of typical protocols within one segment (so most reads
    // take the single-span path) without making an idle buffer of a few bytes costly.
    private const int MinimumSegmentSize = 4096;

    // FeedData asks the pipe for segments up to this size so that a large feed lands in few segments.
    private const int MaximumFeedSegmentSize = 65536;

    // The bytes between the feeder and the reads (see ReceivePipe). It never pauses its writer: flow control is
    // asyncio's (WaitForRoomAsync, 2 x Limit / Limit) and works in bytes the reader has not consumed. A waiting
    // read's continuation runs on the thread that delivered the data (the feeder or the connection's receive
    // loop), as asyncio runs the reader on the loop that received the bytes: no thread-pool hop between receiving
    // and parsing, which keeps request/response latency low, and every FeedData wakes a waiting read before it
    // returns, so reads observe the feeds in order.
    private readonly ReceivePipe _pipe;

    // Bytes made visible to the reader by the feeder, and bytes consumed by reads. Both only grow; their
    // difference is what is buffered. The feeder writes the first, the read in progress the second.
    private long _received;
    private long _consumed;

    private volatile bool _eof;
    private volatile ExceptionDispatchInfo? _exception;

    // 1 while a read operation runs; guards against a second concurrent read.
    private int _readInProgress;
    private string? _readInProgressName;

    /// <summary>Creates a reader with the given buffer limit.</summary>
    /// <param name="limit">
    /// The maximum length of a line or chunk returned by <see cref="ReadLineAsync"/> and <see cref="ReadUntilAsync(ReadOnlyMemory{byte}, CancellationToken)"/>,
    /// not counting the separator; also half the amount buffered before a connection stops receiving.
    /// The default is <see cref="Streams.DefaultLimit"/> (64 KiB).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is zero or negative.</exception>
    /// <remarks>asyncio equivalent: <c>asyncio.StreamReader(limit=...)</c>.</remarks>
    public StreamReader(int limit = Streams.DefaultLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        Limit = limit;

        _pipe = new ReceivePipe(MinimumSegmentSize);
    }

    /// <summary>Gets the buffer limit given to the constructor.</summary>
    /// <value>The limit in bytes; <see cref="Streams.DefaultLimit"/> (64 KiB) unless set.</value>
    /// <remarks>asyncio equivalent: <c>StreamReader._limit</c>.</remarks>
    public int Limit { get; }

    /// <summary>Gets whether the end of the stream was fed and every buffered byte has been read.</summary>
    /// <value><see langword="true"/> once <see cref="FeedEof"/> was called and the buffer is empty; <see langword="false"/> initially.</value>
    /// <remarks>asyncio equivalent: <c>StreamReader.at_eof()</c>.</remarks>
    public bool AtEof => _eof && BufferedBytes == 0;

    /// <summary>Gets the exception set with <see cref="SetException"/>, if any.</summary>
    /// <value>The exception every read throws, or <see langword="null"/> (the default).</value>
    /// <remarks>asyncio equivalent: <c>StreamReader.exception()</c>.</remarks>
    public Exception? Exception => _exception?.SourceException;

    /// <summary>Appends bytes to the buffer and wakes a pending read.</summary>
    /// <param name="data">The bytes to append; an empty span does nothing.</param>
    /// <exception cref="InvalidOperationException"><see cref="FeedEof"/> was called before.</exception>
    /// <remarks>
    /// asyncio equivalent: <c>StreamReader.feed_data()</c>. It may be called from another thread than the
    /// reader's, by one feeder at a time. A read waiting for these bytes runs on the calling thread before this
    /// method returns.
    /// </remarks>
    public void FeedData(ReadOnlySpan<byte> data)
    {
        if (_eof)
        {
            throw new InvalidOperationException("FeedData was called after FeedEof; no data can follow the end of the stream.");
        }

        if (data.IsEmpty)
        {
            return;
        }

        var hint = 0;
        FeedInput input = Input;
        while (!data.IsEmpty)
        {
            Span<byte> span = input.GetSpan(hint);
            var n = Math.Min(span.Length, data.Length);
            data[..n].CopyTo(span);
            input.Advance(n);
            data = data[n..];
            hint = Math.Min(data.Length, MaximumFeedSegmentSize);
        }

        input.Flush();
    }

    /// <summary>Marks the end of the stream and wakes a pending read.</summary>
    /// <remarks>
    /// asyncio equivalent: <c>StreamReader.feed_eof()</c>. Calling it again does nothing. Reads return what is
    /// still buffered, then report the end of the stream.
    /// </remarks>
    public void FeedEof()
    {
        if (_eof)
        {
            return;
        }

        _eof = true;
        _pipe.CompleteWriter();

        // Completing the pipe commits bytes the receive loop advanced but did not flush; count them too.
        CountUnflushed();
        Interlocked.MemoryBarrier();
        ResumeReceivingIfAllowed();
    }

    /// <summary>Sets the exception that every read throws from now on, and wakes a pending read with it.</summary>
    /// <param name="exception">The exception to throw; the same instance is rethrown, with its stack trace kept.</param>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is <see langword="null"/>.</exception>
    /// <remarks>asyncio equivalent: <c>StreamReader.set_exception()</c>. A later call replaces the exception.</remarks>
    public void SetException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _exception = ExceptionDispatchInfo.Capture(exception);

        // Wakes a read waiting on the pipe; the read sees the exception when it checks the state again.
        _pipe.CancelPendingRead();
        Interlocked.MemoryBarrier();
        ResumeReceivingIfAllowed();
    }

    /// <summary>Returns a short description of the reader's state, in the form asyncio uses.</summary>
    /// <returns>For example <c>&lt;StreamReader 4 bytes eof limit=123&gt;</c>.</returns>
    /// <remarks>asyncio equivalent: <c>repr(StreamReader)</c>.</remarks>
    public override string ToString()
    {
        var text = new StringBuilder("<StreamReader");
        var buffered = BufferedBytes;
        if (buffered > 0)
        {
            text.Append(' ').Append(buffered).Append(" bytes");
        }

        if (_eof)
        {
            text.Append(" eof");
        }

        if (Limit != Streams.DefaultLimit)
        {
            text.Append(" limit=").Append(Limit);
        }

        if (Volatile.Read(ref _readInProgress) != 0)
        {
            text.Append(" waiter=").Append(Volatile.Read(ref _readInProgressName));
        }

        if (Exception is { } exception)
        {
            text.Append(" exception=").Append(exception.GetType().Name);
        }

        if (IsReceivePaused)
        {
            text.Append(" paused");
        }

        return text.Append('>').ToString();
    }

    // Starts a read operation; a second one while the first runs is a usage error, as in asyncio's
    // _wait_for_data ("called while another coroutine is already waiting for incoming data").
    private void EnterRead(string method)
    {
        if (Interlocked.CompareExchange(ref _readInProgress, 1, 0) != 0)
        {
            var pending = Volatile.Read(ref _readInProgressName) ?? "another read";
            throw new InvalidOperationException(
                $"{method} was called while {pending} is still pending; a StreamReader serves one read at a time.");
        }

        _readInProgressName = method;
    }

    private void ExitRead()
    {
        ClearReaderWaiting();
        Volatile.Write(ref _readInProgress, 0);
    }

    private void ThrowIfFaulted() => _exception?.Throw();

    // A read that fails before it waits reports the failure through its task, as an async method would.
    private static ValueTask<T> Failed<T>(Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<T>(cancellationToken)
            : ValueTask.FromException<T>(exception);

    private static ValueTask Failed(Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled(cancellationToken)
            : ValueTask.FromException(exception);

    private static int ClampToInt(long value) => (int)Math.Min(value, int.MaxValue);
}
