using System.IO.Pipelines;
using AsyncStreams.Internal;

namespace AsyncStreams;

// The feeder's end of the pipe. It forwards to the pipe's writer and counts the bytes each flush makes
// visible, which is what BufferedBytes, AtEof and the staleness check of the reader's view rely on. It is a
// struct over the reader, not a writer object of its own: every connection's reader has one.
public sealed partial class StreamReader
{
    // Bytes advanced since the last flush: written into the pipe but not yet visible to the reader. Only the
    // feeder (one at a time) and FeedEof touch it.
    private long _unflushed;

    /// <summary>Gets the feeder's end of the reader's pipe; the receive loop of a connection writes here.</summary>
    internal FeedInput Input => new(this);

    private void CountReceived(long bytes)
    {
        if (bytes != 0)
        {
            Interlocked.Add(ref _received, bytes);
        }
    }

    private void CountUnflushed()
    {
        var bytes = _unflushed;
        _unflushed = 0;
        CountReceived(bytes);
    }

    /// <summary>The pipe's writer as the feeder uses it: what it advances is counted as received once flushed.</summary>
    /// <param name="owner">The reader fed.</param>
    internal readonly struct FeedInput(StreamReader owner)
    {
        /// <summary>Gets the bytes advanced since the last flush.</summary>
        public long UnflushedBytes => owner._unflushed;

        /// <summary>Gets memory to receive into; see <see cref="ReceivePipe.GetMemory"/>.</summary>
        /// <param name="sizeHint">The least number of bytes wanted, or 0 for any.</param>
        /// <returns>Memory of at least <paramref name="sizeHint"/> bytes.</returns>
        public Memory<byte> GetMemory(int sizeHint = 0) => owner._pipe.GetMemory(sizeHint);

        /// <summary>Gets a span to write into; see <see cref="ReceivePipe.GetSpan"/>.</summary>
        /// <param name="sizeHint">The least number of bytes wanted, or 0 for any.</param>
        /// <returns>A span of at least <paramref name="sizeHint"/> bytes.</returns>
        public Span<byte> GetSpan(int sizeHint = 0) => owner._pipe.GetSpan(sizeHint);

        /// <summary>Marks <paramref name="bytes"/> of the memory or span as written.</summary>
        /// <param name="bytes">The number of bytes written.</param>
        public void Advance(int bytes)
        {
            owner._pipe.Advance(bytes);
            owner._unflushed += bytes;
        }

        /// <summary>Makes the written bytes visible to the reader and wakes a pending read.</summary>
        /// <param name="cancellationToken">Cancels a flush that waits (the pipe has no pause threshold, so none does).</param>
        /// <returns>The pipe's flush.</returns>
        public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<FlushResult>(Flush());
        }

        /// <summary>Makes the written bytes visible to the reader and wakes a pending read, which runs before this returns.</summary>
        /// <returns>The pipe's flush result (the reader never completes the pipe, so never completed).</returns>
        public FlushResult Flush()
        {
            // The pipe commits the bytes before Flush returns, and never waits since it has no pause threshold.
            // Counting afterwards keeps the count at or below what the reader can see.
            FlushResult flush = owner._pipe.Flush();
            owner.CountUnflushed();
            return flush;
        }
    }
}
