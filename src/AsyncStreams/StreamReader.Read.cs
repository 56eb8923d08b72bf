using System.Runtime.CompilerServices;

namespace AsyncStreams;

// ReadAsync and ReadExactlyAsync. Each public method serves a read from the bytes already seen without an
// async state machine; otherwise a pooled async core waits for data, so the Memory overloads allocate nothing.
public sealed partial class StreamReader
{
    /// <summary>Reads up to <paramref name="n"/> bytes, or every byte to the end of the stream when <paramref name="n"/> is negative.</summary>
    /// <param name="n">
    /// The most bytes to return; 0 returns an empty array at once; negative (the default, -1) reads to the end of
    /// the stream, not bounded by <see cref="Limit"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels the read; nothing is consumed then.</param>
    /// <returns>
    /// For a positive <paramref name="n"/>, 1 to <paramref name="n"/> bytes as soon as any are buffered, or an
    /// empty array at the end of the stream; for a negative one, every remaining byte.
    /// </returns>
    /// <exception cref="InvalidOperationException">Another read is pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">The exception set with <see cref="SetException"/>.</exception>
    /// <remarks>asyncio equivalent: <c>StreamReader.read(n=-1)</c>.</remarks>
    public ValueTask<byte[]> ReadAsync(int n = -1, CancellationToken cancellationToken = default)
    {
        EnterRead(nameof(ReadAsync));
        if (n >= 0 && _exception is null && !cancellationToken.IsCancellationRequested
            && (_buffer.Length >= n || (!_buffer.IsEmpty && !IsStale)))
        {
            var data = Take(Math.Min(n, _buffer.Length));
            ExitRead();
            return new ValueTask<byte[]>(data);
        }

        return n < 0 ? ReadToEndCoreAsync(cancellationToken) : ReadCoreAsync(n, cancellationToken);
    }

    /// <summary>Reads up to <c>buffer.Length</c> bytes into <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The destination; an empty one returns 0 at once.</param>
    /// <param name="cancellationToken">Cancels the read; nothing is consumed then.</param>
    /// <returns>The number of bytes read: at least 1 as soon as any are buffered, 0 only at the end of the stream.</returns>
    /// <exception cref="InvalidOperationException">Another read is pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">The exception set with <see cref="SetException"/>.</exception>
    /// <remarks>
    /// asyncio equivalent: <c>StreamReader.read(n)</c> into a caller's buffer. It allocates nothing per call.
    /// </remarks>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnterRead(nameof(ReadAsync));
        if (_exception is null && !cancellationToken.IsCancellationRequested
            && (_buffer.Length >= buffer.Length || (!_buffer.IsEmpty && !IsStale)))
        {
            var count = TakeInto(buffer.Span);
            ExitRead();
            return new ValueTask<int>(count);
        }

        return ReadIntoCoreAsync(buffer, cancellationToken);
    }

    /// <summary>Reads exactly <paramref name="n"/> bytes.</summary>
    /// <param name="n">The number of bytes to read; 0 returns an empty array. Not bounded by <see cref="Limit"/>.</param>
    /// <param name="cancellationToken">Cancels the read; nothing is consumed then.</param>
    /// <returns>An array of <paramref name="n"/> bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    /// <exception cref="IncompleteReadException">
    /// The stream ended first; <see cref="IncompleteReadException.Partial"/> holds the bytes that were buffered,
    /// <see cref="IncompleteReadException.Expected"/> is <paramref name="n"/>, and the buffer is emptied.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another read is pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">The exception set with <see cref="SetException"/>.</exception>
    /// <remarks>asyncio equivalent: <c>StreamReader.readexactly(n)</c>.</remarks>
    public ValueTask<byte[]> ReadExactlyAsync(int n, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        EnterRead(nameof(ReadExactlyAsync));
        if (_exception is null && !cancellationToken.IsCancellationRequested && _buffer.Length >= n)
        {
            var data = Take(n);
            ExitRead();
            return new ValueTask<byte[]>(data);
        }

        return ReadExactlyCoreAsync(n, cancellationToken);
    }

    /// <summary>Reads exactly <c>buffer.Length</c> bytes into <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The destination, filled completely on success; an empty one completes at once.</param>
    /// <param name="cancellationToken">Cancels the read; nothing is consumed then.</param>
    /// <returns>A task that completes when <paramref name="buffer"/> is filled.</returns>
    /// <exception cref="IncompleteReadException">
    /// The stream ended first; <see cref="IncompleteReadException.Partial"/> holds the bytes that were buffered
    /// (<paramref name="buffer"/> is left unchanged), <see cref="IncompleteReadException.Expected"/> is
    /// <c>buffer.Length</c>, and the buffer is emptied.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another read is pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">The exception set with <see cref="SetException"/>.</exception>
    /// <remarks>
    /// asyncio equivalent: <c>StreamReader.readexactly(n)</c> into a caller's buffer. It allocates nothing per call.
    /// </remarks>
    public ValueTask ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnterRead(nameof(ReadExactlyAsync));
        if (_exception is null && !cancellationToken.IsCancellationRequested && _buffer.Length >= buffer.Length)
        {
            TakeInto(buffer.Span);
            ExitRead();
            return default;
        }

        return ReadExactlyIntoCoreAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]> ReadCoreAsync(int n, CancellationToken cancellationToken)
    {
        try
        {
            if (n == 0)
            {
                // asyncio's read(0) returns at once, after the exception check.
                cancellationToken.ThrowIfCancellationRequested();
                ThrowIfFaulted();
                return [];
            }

            await WaitForAnyAsync(cancellationToken).ConfigureAwait(false);
            return Take(Math.Min(n, _buffer.Length));
        }
        finally
        {
            ExitRead();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadIntoCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            if (buffer.IsEmpty)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ThrowIfFaulted();
                return 0;
            }

            await WaitForAnyAsync(cancellationToken).ConfigureAwait(false);
            return TakeInto(buffer.Span);
        }
        finally
        {
            ExitRead();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]> ReadToEndCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();

            // asyncio reads Limit-sized blocks until EOF and joins them; waiting for the end with everything left
            // in the pipe gives the same bytes, copied once, and a cancellation loses none of them.
            while (true)
            {
                ThrowIfFaulted();
                if (_inputCompleted)
                {
                    return Take(_buffer.Length);
                }

                await FillAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ExitRead();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]> ReadExactlyCoreAsync(int n, CancellationToken cancellationToken)
    {
        try
        {
            await WaitForExactlyAsync(n, cancellationToken).ConfigureAwait(false);
            return Take(n);
        }
        finally
        {
            ExitRead();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadExactlyIntoCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await WaitForExactlyAsync(buffer.Length, cancellationToken).ConfigureAwait(false);
            TakeInto(buffer.Span);
        }
        finally
        {
            ExitRead();
        }
    }

    // asyncio's read(n): wait while the buffer is empty and the stream has not ended. Returns with the view
    // holding every byte visible now (possibly none, at the end of the stream).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitForAnyAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            ThrowIfFaulted();
            if (IsStale)
            {
                Refresh();
                continue;
            }

            if (!_buffer.IsEmpty || _inputCompleted)
            {
                return;
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // asyncio's readexactly(n) loop: wait until n bytes are buffered; at the end of the stream, hand every
    // buffered byte to IncompleteReadException and empty the buffer.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitForExactlyAsync(int n, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            ThrowIfFaulted();
            if (_buffer.Length >= n)
            {
                return;
            }

            if (IsStale)
            {
                Refresh();
                continue;
            }

            if (_inputCompleted)
            {
                throw new IncompleteReadException(Take(_buffer.Length), n);
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
