using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace AsyncStreams;

// The reader's view of its pipe. A read keeps the pipe's last read result open between calls (the view),
// consuming from it locally, so that a read served from bytes already seen costs no pipe round trip. The view
// is handed back to the pipe (AdvanceTo) only when a read needs more than it holds, or when it is used up.
// Only the read in progress touches these fields.
public sealed partial class StreamReader
{
    // Unconsumed bytes of the open pipe read; empty when no pipe read is open.
    private ReadOnlySequence<byte> _buffer;

    // Whether a pipe read is open (ReadAsync or TryRead returned and AdvanceTo is still owed).
    private bool _holding;

    // Whether the open pipe read reported the writer completed: the view then holds every remaining byte.
    private bool _inputCompleted;

    // True when the feeder has made bytes visible beyond the view. The feeder counts bytes only after they are
    // in the pipe, so a stale view always grows when refreshed.
    private bool IsStale => Volatile.Read(ref _received) > _consumed + _buffer.Length;

    // Replaces the view with everything the pipe holds now, without waiting. Keeps asyncio's rule that a read
    // decides on the whole buffer: a read that could not be served from the view looks at the latest bytes
    // before it reports a limit overrun, returns a short chunk, or waits.
    private void Refresh()
    {
        ReleaseView(examinedEverything: false);
        if (_pipeReader.TryRead(out ReadResult result))
        {
            Accept(result);
        }
    }

    // Waits until the pipe holds more than the view (or the input completes, or SetException wakes the read),
    // then makes it the view. Nothing is consumed, so a cancellation here loses no byte.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        ReleaseView(examinedEverything: true);
        ValueTask<ReadResult> pending = _pipeReader.ReadAsync(cancellationToken);
        var waiting = !pending.IsCompleted;
        if (waiting)
        {
            // asyncio's _wait_for_data resumes a paused transport: a read that needs more than is buffered
            // would otherwise wait forever (ReadExactlyAsync beyond 2 x Limit, ReadAsync to the end).
            MarkReaderWaiting();
        }

        try
        {
            Accept(await pending.ConfigureAwait(false));
        }
        finally
        {
            if (waiting)
            {
                ClearReaderWaiting();
            }
        }
    }

    private void Accept(in ReadResult result)
    {
        _buffer = result.Buffer;
        _holding = true;
        _inputCompleted = result.IsCompleted;
    }

    // Hands the open pipe read back, consuming what reads consumed locally. When everything was examined the
    // next pipe read waits for new bytes; otherwise it returns at once.
    private void ReleaseView(bool examinedEverything)
    {
        if (!_holding)
        {
            return;
        }

        if (examinedEverything)
        {
            _pipeReader.AdvanceTo(_buffer.Start, _buffer.End);
        }
        else
        {
            _pipeReader.AdvanceTo(_buffer.Start);
        }

        _holding = false;
        _inputCompleted = false;
        _buffer = default;
    }

    // Removes count bytes from the front of the view: the bytes a read returns or drops.
    private void Consume(long count)
    {
        if (count == 0)
        {
            return;
        }

        _buffer = _buffer.Slice(count);
        Interlocked.Add(ref _consumed, count);
        if (_buffer.IsEmpty && !_inputCompleted)
        {
            // Returns the used segments to the pool now, so an idle reader holds no buffer.
            ReleaseView(examinedEverything: true);
        }

        ResumeReceivingIfAllowed();
    }

    // Returns the first count bytes of the view in one exact-size array (one copy, even across segments)
    // and consumes them.
    private byte[] Take(long count)
    {
        if (count == 0)
        {
            return [];
        }

        var result = _buffer.Slice(0, count).ToArray();
        Consume(count);
        return result;
    }

    private int TakeInto(Span<byte> destination)
    {
        var count = (int)Math.Min(destination.Length, _buffer.Length);
        if (_buffer.IsSingleSegment)
        {
            _buffer.FirstSpan[..count].CopyTo(destination);
        }
        else
        {
            _buffer.Slice(0, count).CopyTo(destination);
        }

        Consume(count);
        return count;
    }
}
