using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.InteropServices;

namespace AsyncStreams;

// The reader's view of its pipe. A read keeps the pipe's last read result open between calls (the view),
// consuming from it locally, so that a read served from bytes already seen costs no pipe round trip. The view
// is handed back to the pipe (AdvanceTo) only when a read needs more than it holds, or when it is used up.
// Only the read in progress touches these fields.
public sealed partial class StreamReader
{
    // The open pipe read's bytes; default when no pipe read is open. Its first _skip bytes, all within its first
    // segment, are consumed already: reads served from the first span consume by moving _spanStart (no sequence
    // arithmetic), and View drops the skipped bytes from the sequence only when a read needs the sequence itself.
    private ReadOnlySequence<byte> _view;
    private int _skip;

    // The number of unconsumed bytes of the view.
    private long _viewLength;

    // The unconsumed part of the view's first segment, when that segment is an array (the pipe's segments are
    // pooled arrays); otherwise null, with _spanStart == _spanEnd.
    private byte[]? _spanArray;
    private int _spanStart;
    private int _spanEnd;

    // Whether a pipe read is open (ReadAsync or TryRead returned and AdvanceTo is still owed).
    private bool _holding;

    // Whether the open pipe read reported the writer completed: the view then holds every remaining byte.
    private bool _inputCompleted;

    // Whether unconsumed bytes were handed back to the pipe as examined and no pipe read has returned them since
    // (a wait for more data was cancelled). The pipe gives such bytes back only to a read that sees new data or
    // is cancelled itself, so Refresh cancels one.
    private bool _viewAbandoned;

    // True when the view lacks bytes the pipe holds: bytes the feeder made visible after the view was taken (the
    // feeder counts bytes only once they are in the pipe, so a stale view always grows when refreshed), or bytes
    // handed back by a cancelled wait.
    private bool IsStale => _viewAbandoned || Volatile.Read(ref _received) > _consumed + _viewLength;

    // The unconsumed bytes of the open pipe read, as a sequence.
    private ReadOnlySequence<byte> View
    {
        get
        {
            if (_skip != 0)
            {
                _view = _view.Slice(_skip);
                _skip = 0;
            }

            return _view;
        }
    }

    // The unconsumed bytes of the view's first segment.
    private ReadOnlySpan<byte> FirstSpan =>
        _spanArray is { } array ? new ReadOnlySpan<byte>(array, _spanStart, _spanEnd - _spanStart) : View.FirstSpan;

    // Replaces the view with everything the pipe holds now, without waiting. Keeps asyncio's rule that a read
    // decides on the whole buffer: a read that could not be served from the view looks at the latest bytes
    // before it reports a limit overrun, returns a short chunk, or waits.
    private void Refresh()
    {
        ReleaseView();
        if (!_pipe.TryRead(out ReadResult result))
        {
            // Every unconsumed byte was examined by a cancelled wait: a cancelled pipe read returns them.
            _pipe.CancelPendingRead();
            var returned = _pipe.TryRead(out result);
            Debug.Assert(returned, "A pipe read after CancelPendingRead always returns.");
        }

        Accept(result);
    }

    // Starts waiting until the pipe holds more than the view (or the input completes, or SetException wakes the
    // read); the caller awaits the result and makes it the view with Accept. Nothing is consumed, so a
    // cancellation here loses no byte. It is not an async method of its own: a read that waits then holds one
    // suspended state machine (its own), not two, which is what an idle connection costs.
    private ValueTask<ReadResult> FillAsync(CancellationToken cancellationToken)
    {
        ReleaseView();
        ValueTask<ReadResult> pending = _pipe.ReadAsync(cancellationToken);
        if (!pending.IsCompleted)
        {
            // asyncio's _wait_for_data resumes a paused transport: a read that needs more than is buffered
            // would otherwise wait forever (ReadExactlyAsync beyond 2 x Limit, ReadAsync to the end). The mark
            // stays while the read goes on; ExitRead clears it.
            MarkReaderWaiting();
        }

        return pending;
    }

    private void Accept(in ReadResult result)
    {
        _view = result.Buffer;
        _skip = 0;
        _viewLength = _view.Length;
        CacheFirstSpan();
        _holding = true;
        _viewAbandoned = false;
        _inputCompleted = result.IsCompleted;
    }

    // Hands the open pipe read back: consumed up to what reads consumed locally, examined to the end of the view,
    // so the next pipe read returns at once only when there are bytes beyond the view. Examined never moves
    // backwards, as the pipe requires, because a view ends where the pipe's data ended when it was taken.
    private void ReleaseView()
    {
        if (!_holding)
        {
            return;
        }

        if (_viewLength == 0)
        {
            _pipe.AdvanceTo(_view.End);
        }
        else
        {
            ReadOnlySequence<byte> view = View;
            _pipe.AdvanceTo(view.Start, view.End);
        }

        _viewAbandoned = _viewLength != 0;
        _holding = false;
        _inputCompleted = false;
        _view = default;
        _skip = 0;
        _viewLength = 0;
        _spanArray = null;
        _spanStart = 0;
        _spanEnd = 0;
    }

    private void CacheFirstSpan()
    {
        if (MemoryMarshal.TryGetArray(_view.First, out ArraySegment<byte> segment) && segment.Array is { } array)
        {
            _spanArray = array;
            _spanStart = segment.Offset;
            _spanEnd = segment.Offset + segment.Count;
        }
        else
        {
            _spanArray = null;
            _spanStart = 0;
            _spanEnd = 0;
        }
    }

    // Removes count bytes from the front of the view: the bytes a read returns or drops.
    private void Consume(long count)
    {
        if (count == 0)
        {
            return;
        }

        _viewLength -= count;

        // Only the read in progress writes it; WaitForRoomAsync's process-wide barrier pairs with this store.
        Volatile.Write(ref _consumed, _consumed + count);
        if (_viewLength == 0 && !_inputCompleted)
        {
            // Everything read (a server's usual case: one line per receive): the whole pipe read goes back, with no
            // slicing first. Returns the used segments to the pool now, so an idle reader holds no buffer.
            ReleaseView();
        }
        else if (count < _spanEnd - _spanStart)
        {
            // Within the first segment, which keeps some bytes.
            _spanStart += (int)count;
            _skip += (int)count;
        }
        else
        {
            _view = _view.Slice(_skip + count);
            _skip = 0;
            CacheFirstSpan();
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

        var result = GC.AllocateUninitializedArray<byte>(checked((int)count));
        View.Slice(0, count).CopyTo(result);
        Consume(count);
        return result;
    }

    // The returned arrays are overwritten whole, so they need not be zeroed first: for long lines (100 KiB lines
    // are large-object-heap arrays) zeroing would be a third pass over the bytes, after the receive and the copy.
    private static byte[] CopyToNewArray(ReadOnlySpan<byte> bytes)
    {
        var result = GC.AllocateUninitializedArray<byte>(bytes.Length);
        bytes.CopyTo(result);
        return result;
    }

    private int TakeInto(Span<byte> destination)
    {
        var count = (int)Math.Min(destination.Length, _viewLength);
        ReadOnlySpan<byte> first = FirstSpan;
        if (count <= first.Length)
        {
            first[..count].CopyTo(destination);
        }
        else
        {
            View.Slice(0, count).CopyTo(destination);
        }

        Consume(count);
        return count;
    }
}
