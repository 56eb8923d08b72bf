namespace AsyncStreams;

// asyncio's pause_reading / resume_reading, seen from the receive loop: after each flush into Input it awaits
// WaitForRoomAsync, which holds it while more than 2 x Limit bytes are buffered and releases it once at most
// Limit are, once a read waits for more than is buffered, or at the end of the stream or on an exception.
public sealed partial class StreamReader
{
    // The receive loop's pending wait, if any. Set by the receive loop (one wait at a time) and taken, exactly once,
    // by whichever of the loop and a read swaps it out first: lock-free, so an idle reader carries no lock object.
    private TaskCompletionSource? _roomWaiter;

    // 1 from the moment a read waits on the pipe for more bytes than it holds until that read ends.
    private int _readerWaiting;

    /// <summary>Gets the number of bytes reads have consumed (returned or dropped) since the reader was made.</summary>
    internal long ConsumedBytes => Volatile.Read(ref _consumed);

    /// <summary>Gets the number of bytes the feeder has made visible since the reader was made.</summary>
    internal long ReceivedBytes => Volatile.Read(ref _received);

    /// <summary>Gets the number of bytes buffered and not consumed by a read.</summary>
    internal long BufferedBytes => Math.Max(0, ReceivedBytes - ConsumedBytes);

    private bool IsReceivePaused => Volatile.Read(ref _roomWaiter) is not null;

    /// <summary>
    /// Waits until the receive loop may receive again: completes at once while at most 2 x <see cref="Limit"/>
    /// bytes are buffered; otherwise once at most <see cref="Limit"/> are, a read waits for more than is buffered,
    /// or the end of the stream or an exception is set.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when receiving may resume.</returns>
    internal ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        if (BufferedBytes <= 2L * Limit)
        {
            return default;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Reads publish their progress with plain stores (_consumed) and then look for a waiter, so a read's store
        // can still sit in its processor's write buffer while this thread checks it. The process-wide barrier after
        // publishing the waiter drains those buffers: either the check below sees the read's progress, or the read's
        // look for a waiter comes after the barrier and finds this one. It costs microseconds, but only when
        // receiving pauses (more than 2 x Limit buffered), and it keeps a locked instruction out of every read.
        Interlocked.Exchange(ref _roomWaiter, waiter);
        Interlocked.MemoryBarrierProcessWide();
        if (MayResumeReceiving() && Interlocked.CompareExchange(ref _roomWaiter, null, waiter) == waiter)
        {
            return default;
        }

        // Either receiving may not resume yet, or a read has just taken the waiter and completes it.
        return new ValueTask(WaitForRoomCoreAsync(waiter, cancellationToken));
    }

    private async Task WaitForRoomCoreAsync(TaskCompletionSource waiter, CancellationToken cancellationToken)
    {
        try
        {
            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Interlocked.CompareExchange(ref _roomWaiter, null, waiter);
            throw;
        }
    }

    private bool MayResumeReceiving() =>
        BufferedBytes <= Limit
        || Volatile.Read(ref _readerWaiting) != 0
        || _eof
        || _exception is not null;

    // Called after every consumption and state change; costs one read of a field unless receiving is paused.
    // While a waiter is pending the receive loop is paused, so the buffered bytes cannot grow between the check and
    // the exchange: a waiter still in place after the check may be released.
    private void ResumeReceivingIfAllowed()
    {
        TaskCompletionSource? waiter = Volatile.Read(ref _roomWaiter);
        if (waiter is null || !MayResumeReceiving())
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _roomWaiter, null, waiter) == waiter)
        {
            waiter.TrySetResult();
        }
    }

    private void MarkReaderWaiting()
    {
        // A plain store, as for _consumed: WaitForRoomAsync's process-wide barrier pairs with it.
        Volatile.Write(ref _readerWaiting, 1);
        ResumeReceivingIfAllowed();
    }

    private void ClearReaderWaiting() => Volatile.Write(ref _readerWaiting, 0);
}
