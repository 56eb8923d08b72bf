using System.IO.Pipelines;

namespace AsyncStreams;

// The feeder's end of the pipe. It forwards to the pipe's writer and counts the bytes each flush makes
// visible, which is what BufferedBytes, AtEof and the staleness check of the reader's view rely on.
public sealed partial class StreamReader
{
    private void CountReceived(long bytes)
    {
        if (bytes != 0)
        {
            Interlocked.Add(ref _received, bytes);
        }
    }

    private sealed class FeedWriter(StreamReader owner, PipeWriter inner) : PipeWriter
    {
        // Bytes advanced since the last flush: written into the pipe but not yet visible to the reader.
        private long _unflushed;

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => _unflushed;

        public override void Advance(int bytes)
        {
            inner.Advance(bytes);
            _unflushed += bytes;
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        // The receive loop ends the stream through FeedEof or by completing this writer; both end up here
        // or in FeedEof, and a failure completes the reader with that exception, as connection_lost does.
        public override void Complete(Exception? exception = null)
        {
            if (exception is not null)
            {
                owner.SetException(exception);
            }

            owner.FeedEof();
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            // The pipe commits the bytes before FlushAsync returns, and never waits since it has no pause
            // threshold. Counting afterwards keeps the count at or below what the reader can see.
            ValueTask<FlushResult> flush = inner.FlushAsync(cancellationToken);
            CountUnflushed();
            return flush;
        }

        public void CountUnflushed()
        {
            var bytes = _unflushed;
            _unflushed = 0;
            owner.CountReceived(bytes);
        }
    }
}
