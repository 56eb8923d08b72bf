using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace AsyncStreams.Internal;

/// <summary>
/// The buffer between a connection's receiver (or <see cref="StreamReader.FeedData"/>) and a <see cref="StreamReader"/>:
/// a pipe with one writer and one reader, made for exactly the operations the reader uses: a <see cref="PipeReader"/>
/// whose writer's side is the internal GetMemory, GetSpan, Advance, Flush and CompleteWriter. It keeps the
/// <see cref="Pipe"/> contract those operations rely on (a read returns the unconsumed bytes as a sequence; the
/// reader hands them back with AdvanceTo, consumed and examined; a waiting read completes once bytes beyond the
/// examined position are flushed, the writer completes, or the read is cancelled), with less synchronisation: a
/// <see cref="Pipe"/> takes its monitor in Advance, FlushAsync, ReadAsync, the awaiter's OnCompleted, GetResult and
/// AdvanceTo, six lock round trips per received message on a server; this pipe takes a spin lock (one interlocked
/// instruction, released by a plain store) in GetMemory, Flush, ReadAsync and AdvanceTo, and none in Advance.
/// </summary>
/// <remarks>
/// <para>Every critical section is a few field updates (and, when the writer needs a new array, the pool's rent):
/// no callback or continuation runs under the lock (waits are completed after it is released), so a thread that
/// finds it taken spins only for as long as the owner needs to finish those updates.</para>
/// <para>Segments are arrays from <see cref="ArrayPool{T}.Shared"/>. A read that consumes every byte while the writer
/// holds no memory returns the last array to the pool at once, so an idle reader holds no buffer; the segment
/// objects are kept (up to sixteen spares) and reused, so steady traffic allocates nothing.</para>
/// <para>A waiting read is completed on the thread that makes it complete (the writer's Flush or CompleteWriter,
/// the cancelling thread), like the inline scheduler of <see cref="PipeScheduler"/>.</para>
/// </remarks>
internal sealed class ReceivePipe : PipeReader, IValueTaskSource<ReadResult>
{
    // Enough for a megabyte fed at once in FeedData's 64 KiB segments, so that repeated large feeds reuse them all.
    private const int MaxSpares = 16;

    private static readonly Action<object?, CancellationToken> s_cancelWait = static (state, token) => ((ReceivePipe)state!).CancelWait(token);

    private readonly int _minimumSegmentSize;

    // 0 when free, 1 while a thread is inside a critical section.
    private int _sync;

    // The segments, oldest first: the reader's next unconsumed byte is at (_head, _headIndex), the bytes made
    // visible end at (_commitTail, _commitIndex), and the writer writes into _writeTail from _writeIndex on. The
    // writer alone moves _writeIndex, and only while _writing (GetMemory until Flush), when no reader touches it.
    private Segment? _head;
    private int _headIndex;
    private Segment? _commitTail;
    private int _commitIndex;
    private Segment? _writeTail;
    private int _writeIndex;
    private bool _writing;

    // Segment objects the reader has used up, kept for the writer's next segments (at most MaxSpares, linked).
    private Segment? _spares;
    private int _spareCount;

    // Absolute stream positions: the end of the flushed bytes, and how far the reader has examined.
    private long _committed;
    private long _examined;

    private bool _completed;
    private bool _readerCompleted;
    private bool _cancelPending;

    // The waiting read, if any.
    private bool _waiting;
    private ManualResetValueTaskSourceCore<ReadResult> _wait;
    private CancellationToken _waitToken;
    private CancellationTokenRegistration _waitRegistration;

    /// <summary>Creates an empty pipe.</summary>
    /// <param name="minimumSegmentSize">The smallest array the writer's memory comes from.</param>
    internal ReceivePipe(int minimumSegmentSize)
    {
        _minimumSegmentSize = minimumSegmentSize;
    }

    /// <summary>Gets the number of arrays the pipe holds (for tests: an idle pipe holds none).</summary>
    internal int ArraysHeld
    {
        get
        {
            Enter();
            try
            {
                int count = 0;
                for (Segment? segment = _head; segment is not null; segment = segment.NextSegment)
                {
                    count += segment.HasArray ? 1 : 0;
                }

                return count;
            }
            finally
            {
                Exit();
            }
        }
    }

    // ---- The writer's side (one writer at a time) ----

    /// <summary>Gets memory to write into: at least <paramref name="sizeHint"/> bytes, or some when it is 0.</summary>
    internal Memory<byte> GetMemory(int sizeHint)
    {
        Segment tail = PrepareWrite(sizeHint);
        return tail.Array.AsMemory(_writeIndex);
    }

    /// <summary>Gets a span to write into: at least <paramref name="sizeHint"/> bytes, or some when it is 0.</summary>
    internal Span<byte> GetSpan(int sizeHint)
    {
        Segment tail = PrepareWrite(sizeHint);
        return tail.Array.AsSpan(_writeIndex);
    }

    /// <summary>Marks <paramref name="bytes"/> of the memory last returned as written; Flush makes them visible.</summary>
    internal void Advance(int bytes)
    {
        Segment? tail = _writeTail;
        if (!_writing || tail is null || (uint)bytes > (uint)(tail.Array.Length - _writeIndex))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "Advance went past the memory GetMemory returned.");
        }

        _writeIndex += bytes;
    }

    /// <summary>Makes the written bytes visible to the reader and completes a read waiting for them.</summary>
    /// <returns>A result that says whether the reader has completed (the bytes were then dropped).</returns>
    internal FlushResult Flush()
    {
        Waiter waiter;
        Segment? dropped = null;
        Enter();
        try
        {
            if (_readerCompleted)
            {
                // Nobody reads any more: what was written goes back to the pool.
                _writing = false;
                dropped = _head;
                _head = _commitTail = _writeTail = null;
                _headIndex = _commitIndex = _writeIndex = 0;
            }
            else
            {
                Commit();
            }

            waiter = _waiting && _committed > _examined ? TakeWaiter(isCanceled: false) : default;
        }
        finally
        {
            Exit();
        }

        if (dropped is not null)
        {
            ReturnSegments(dropped, null);
            return new FlushResult(isCanceled: false, isCompleted: true);
        }

        waiter.Complete(this);
        return default;
    }

    /// <summary>Makes the written bytes visible and marks the end of the stream: reads return the rest, then report it.</summary>
    internal void CompleteWriter()
    {
        Waiter waiter;
        Enter();
        try
        {
            Commit();
            _completed = true;
            waiter = _waiting ? TakeWaiter(isCanceled: false) : default;
        }
        finally
        {
            Exit();
        }

        waiter.Complete(this);
    }

    // Makes sure the write tail has room for sizeHint bytes (at least one) and marks the writer busy, so that the
    // reader leaves the tail alone until the next Flush.
    private Segment PrepareWrite(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        int needed = Math.Max(sizeHint, 1);
        Enter();
        try
        {
            if (_completed)
            {
                throw new InvalidOperationException("The pipe's writer has completed; nothing more can be written.");
            }

            _writing = true;
            Segment? tail = _writeTail;
            if (tail is not null && tail.Array.Length - _writeIndex >= needed)
            {
                return tail;
            }

            return AddWriteSegment(tail, needed);
        }
        finally
        {
            Exit();
        }
    }

    private Segment AddWriteSegment(Segment? tail, int needed)
    {
        byte[] array = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _minimumSegmentSize));
        if (tail is not null && _writeIndex == 0)
        {
            // Nothing written into the tail yet (so nothing in it is visible either): swap its array for a larger one.
            ReturnArray(tail);
            tail.Array = array;
            return tail;
        }

        Segment segment = TakeSpare() ?? new Segment();
        segment.Array = array;
        if (tail is null)
        {
            segment.Start(_committed);
            _head = segment;
            _headIndex = 0;
            _commitTail = segment;
            _commitIndex = 0;
        }
        else
        {
            // The tail's written bytes are all it will ever hold; they become visible at the next Flush.
            tail.Written = _writeIndex;
            segment.Start(tail.RunningIndex + _writeIndex);
            tail.Link(segment);
        }

        _writeTail = segment;
        _writeIndex = 0;
        return segment;
    }

    // Makes everything written visible: the segments up to the write tail get their final lengths.
    private void Commit()
    {
        Segment? tail = _writeTail;
        _writing = false;
        if (tail is null)
        {
            return;
        }

        for (Segment? segment = _commitTail; segment is not null && segment != tail; segment = segment.NextSegment)
        {
            segment.Publish(segment.Written);
        }

        tail.Written = _writeIndex;
        tail.Publish(_writeIndex);
        _commitTail = tail;
        _commitIndex = _writeIndex;
        _committed = tail.RunningIndex + _writeIndex;
    }

    // ---- The reader's side (one read at a time) ----

    /// <summary>Returns the unconsumed bytes without waiting, when there are bytes beyond the examined position,
    /// the writer has completed, or a read cancellation is pending (which this observes).</summary>
    public override bool TryRead(out ReadResult result)
    {
        Enter();
        try
        {
            ThrowIfReaderCompleted();
            if (_committed > _examined || _completed || _cancelPending)
            {
                result = Current(_cancelPending);
                _cancelPending = false;
                return true;
            }

            result = default;
            return false;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Returns the unconsumed bytes once there are bytes beyond the examined position, the writer has
    /// completed, or <see cref="CancelPendingRead"/> is called; throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled first.</summary>
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReadResult>(cancellationToken);
        }

        short version;
        Enter();
        try
        {
            ThrowIfReaderCompleted();
            if (_waiting)
            {
                throw new InvalidOperationException("A read is already waiting on the pipe.");
            }

            if (_committed > _examined || _completed || _cancelPending)
            {
                ReadResult result = Current(_cancelPending);
                _cancelPending = false;
                return new ValueTask<ReadResult>(result);
            }

            _wait.Reset();
            version = _wait.Version;
            _waiting = true;
            _waitToken = cancellationToken;
        }
        finally
        {
            Exit();
        }

        if (cancellationToken.CanBeCanceled)
        {
            RegisterCancellation(version, cancellationToken);
        }

        return new ValueTask<ReadResult>(this, version);
    }

    /// <summary>Completes the waiting read at once with the bytes there are (marked cancelled), or makes the next
    /// read return at once when none waits.</summary>
    public override void CancelPendingRead()
    {
        Waiter waiter = default;
        Enter();
        try
        {
            if (_waiting)
            {
                waiter = TakeWaiter(isCanceled: true);
            }
            else
            {
                _cancelPending = true;
            }
        }
        finally
        {
            Exit();
        }

        waiter.Complete(this);
    }

    /// <summary>Hands back the last read's bytes up to <paramref name="consumed"/>, all of them examined up to there.</summary>
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    /// <summary>Hands back the last read's bytes: those before <paramref name="consumed"/> are gone, and the next
    /// read waits for bytes beyond <paramref name="examined"/>.</summary>
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        Segment? released = null;
        byte[]? releasedArray = null;
        Enter();
        try
        {
            ThrowIfReaderCompleted();
            if (examined.GetObject() is Segment examinedSegment)
            {
                _examined = Math.Max(_examined, examinedSegment.RunningIndex + examined.GetInteger());
            }

            if (consumed.GetObject() is not Segment consumedSegment)
            {
                return;
            }

            // Segments before the consumed position's are used up.
            int consumedIndex = consumed.GetInteger();
            released = _head;
            while (_head is not null && _head != consumedSegment)
            {
                _head = _head.NextSegment;
            }

            Debug.Assert(_head == consumedSegment, "AdvanceTo was given a position outside the pipe.");
            _headIndex = consumedIndex;
            if (_head != _commitTail && _headIndex == _head!.Written)
            {
                // At the end of a full segment: the next one starts where it ends.
                _head = _head.NextSegment;
                _headIndex = 0;
            }

            released = Detach(released, _head);
            if (_head == _writeTail && !_writing && _headIndex == _writeIndex && _head!.HasArray)
            {
                // Everything read and the writer holds no memory: the last array goes back to the pool.
                releasedArray = _head.Array;
                _head.Empty(_committed);
                _headIndex = 0;
                _commitIndex = 0;
                _writeIndex = 0;
            }
        }
        finally
        {
            Exit();
        }

        // Outside the lock: the arrays go back to the pool, and the segment objects are reset for reuse.
        ReturnSegments(released, releasedArray);
    }

    private void ReturnSegments(Segment? released, byte[]? releasedArray)
    {
        if (releasedArray is not null)
        {
            ArrayPool<byte>.Shared.Return(releasedArray);
        }

        while (released is not null)
        {
            Segment? next = released.NextSegment;
            ReturnArray(released);
            released.Clear();
            Enter();
            if (_spareCount < MaxSpares)
            {
                released.Link(_spares);
                _spares = released;
                _spareCount++;
            }

            Exit();
            released = next;
        }
    }

    // Cuts the segments from first up to (not including) stop off the chain; returns them, or null when there are none.
    private static Segment? Detach(Segment? first, Segment? stop)
    {
        if (first == stop)
        {
            return null;
        }

        for (Segment? segment = first; segment is not null; segment = segment.NextSegment)
        {
            if (segment.NextSegment == stop)
            {
                segment.Unlink();
                break;
            }
        }

        return first;
    }

    private Segment? TakeSpare()
    {
        Segment? spare = _spares;
        if (spare is not null)
        {
            _spares = spare.NextSegment;
            _spareCount--;
            spare.Unlink();
        }

        return spare;
    }

    /// <summary>Ends reading: the pipe returns its arrays, reads throw, and the writer's flushes report the reader
    /// completed (their bytes are dropped).</summary>
    public override void Complete(Exception? exception = null)
    {
        Segment? released;
        Waiter waiter = default;
        Enter();
        try
        {
            if (_readerCompleted)
            {
                return;
            }

            _readerCompleted = true;
            if (_waiting)
            {
                waiter = TakeWaiter(isCanceled: true);
            }

            // While the writer holds memory its tail stays; the writer's next flush lets it go.
            Segment? keep = _writing ? _writeTail : null;
            released = Detach(_head, keep);
            _head = keep;
            _commitTail = keep;
            _headIndex = 0;
            _commitIndex = 0;
            if (keep is null)
            {
                _writeTail = null;
                _writeIndex = 0;
            }
        }
        finally
        {
            Exit();
        }

        ReturnSegments(released, null);
        waiter.Complete(this);
    }

    private void ThrowIfReaderCompleted()
    {
        if (_readerCompleted)
        {
            throw new InvalidOperationException("The pipe's reader has completed; nothing more can be read.");
        }
    }

    // The bytes from the reader's position to the end of the visible ones; an empty sequence still carries a
    // position (in the head segment), so that AdvanceTo can tell how far the reader examined.
    private ReadResult Current(bool isCanceled)
    {
        ReadOnlySequence<byte> buffer = _head is null
            ? default
            : new ReadOnlySequence<byte>(_head, _headIndex, _commitTail!, _commitIndex);
        return new ReadResult(buffer, isCanceled, _completed);
    }

    private Waiter TakeWaiter(bool isCanceled, Exception? exception = null)
    {
        _waiting = false;
        var waiter = new Waiter(exception is null ? Current(isCanceled) : default, exception, _waitRegistration);
        _waitRegistration = default;
        _waitToken = default;
        return waiter;
    }

    private void RegisterCancellation(short version, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(s_cancelWait, this);
        bool keep;
        Enter();
        try
        {
            // The wait may have ended already (even inside UnsafeRegister, when the token was cancelled meanwhile).
            keep = _waiting && _wait.Version == version;
            if (keep)
            {
                _waitRegistration = registration;
            }
        }
        finally
        {
            Exit();
        }

        if (!keep)
        {
            registration.Dispose();
        }
    }

    private void CancelWait(CancellationToken cancellationToken)
    {
        Waiter waiter = default;
        Enter();
        try
        {
            if (_waiting && _waitToken == cancellationToken)
            {
                waiter = TakeWaiter(isCanceled: false, new OperationCanceledException(cancellationToken));
            }
        }
        finally
        {
            Exit();
        }

        waiter.Complete(this);
    }

    private static void ReturnArray(Segment segment)
    {
        if (segment.HasArray)
        {
            ArrayPool<byte>.Shared.Return(segment.Array);
        }
    }

    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _sync, 1, 0) != 0)
        {
            EnterContended();
        }
    }

    private void EnterContended()
    {
        var spinner = default(SpinWait);
        do
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        while (Volatile.Read(ref _sync) != 0 || Interlocked.CompareExchange(ref _sync, 1, 0) != 0);
    }

    private void Exit() => Volatile.Write(ref _sync, 0);

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _wait.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _wait.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wait.OnCompleted(continuation, state, token, flags);

    // A wait taken out under the lock, completed after it is released.
    private readonly struct Waiter(ReadResult result, Exception? exception, CancellationTokenRegistration registration)
    {
        private readonly bool _taken = true;

        internal void Complete(ReceivePipe pipe)
        {
            if (!_taken)
            {
                return;
            }

            // Waits for a cancellation callback running on another thread, so none can fire after the completion.
            registration.Dispose();
            if (exception is null)
            {
                pipe._wait.SetResult(result);
            }
            else
            {
                pipe._wait.SetException(exception);
            }
        }
    }

    /// <summary>One array of the pipe, linked into the sequence the reader sees.</summary>
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        private static readonly byte[] s_none = [];

        // The array written into, or an empty one while the segment holds none.
        internal byte[] Array { get; set; } = s_none;

        // The bytes written into the array (final once a later segment exists).
        internal int Written { get; set; }

        internal bool HasArray => Array.Length != 0;

        internal Segment? NextSegment => (Segment?)Next;

        internal void Start(long runningIndex)
        {
            RunningIndex = runningIndex;
            Written = 0;
            Memory = default;
            Next = null;
        }

        // Makes the first length bytes part of the sequence.
        internal void Publish(int length) => Memory = Array.AsMemory(0, length);

        internal void Link(Segment? next) => Next = next;

        internal void Unlink() => Next = null;

        // Gives up the array (the caller returns it) and starts again empty at runningIndex.
        internal void Empty(long runningIndex)
        {
            Array = s_none;
            Start(runningIndex);
        }

        internal void Clear()
        {
            Array = s_none;
            Written = 0;
            Memory = default;
            Next = null;
            RunningIndex = 0;
        }
    }
}
