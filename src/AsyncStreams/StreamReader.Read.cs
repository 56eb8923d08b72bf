using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AsyncStreams;

// ReadAsync and ReadExactlyAsync. Each read is a synchronous step over the view, retried after each wait for
// data: a read served from buffered bytes runs no async state machine, the byte[] overloads wait in a pooled async
// core, and the Memory overloads wait through a reusable operation (MemoryRead), so they allocate nothing.
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
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (n < 0 ? TryReadToEnd(out var data) : TryRead(n, out data))
            {
                ExitRead();
                return new ValueTask<byte[]>(data);
            }
        }
        catch (Exception exception)
        {
            ExitRead();
            return Failed<byte[]>(exception, cancellationToken);
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
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryReadInto(buffer.Span, out var count))
            {
                ExitRead();
                return new ValueTask<int>(count);
            }
        }
        catch (Exception exception)
        {
            ExitRead();
            return Failed<int>(exception, cancellationToken);
        }

        return MemoryReadOperation.ReadAsync(buffer, cancellationToken);
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
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryReadExactly(n))
            {
                var data = Take(n);
                ExitRead();
                return new ValueTask<byte[]>(data);
            }
        }
        catch (Exception exception)
        {
            ExitRead();
            return Failed<byte[]>(exception, cancellationToken);
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
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryReadExactly(buffer.Length))
            {
                TakeInto(buffer.Span);
                ExitRead();
                return default;
            }
        }
        catch (Exception exception)
        {
            ExitRead();
            return Failed(exception, cancellationToken);
        }

        return MemoryReadOperation.ReadExactlyAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<byte[]> ReadCoreAsync(int n, CancellationToken cancellationToken)
    {
        try
        {
            byte[]? data;
            do
            {
                Accept(await FillAsync(cancellationToken).ConfigureAwait(false));
            }
            while (!TryRead(n, out data));

            return data;
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
            byte[]? data;
            do
            {
                Accept(await FillAsync(cancellationToken).ConfigureAwait(false));
            }
            while (!TryReadToEnd(out data));

            return data;
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
            do
            {
                Accept(await FillAsync(cancellationToken).ConfigureAwait(false));
            }
            while (!TryReadExactly(n));

            return Take(n);
        }
        finally
        {
            ExitRead();
        }
    }

    // asyncio's read(n): served once anything is buffered or the stream has ended; otherwise it waits.
    private bool TryRead(int n, [NotNullWhen(true)] out byte[]? data)
    {
        ThrowIfFaulted();
        if (_viewLength < n && IsStale)
        {
            Refresh();
        }

        if (_viewLength >= n || _viewLength != 0 || _inputCompleted)
        {
            data = Take(Math.Min(n, _viewLength));
            return true;
        }

        data = null;
        return false;
    }

    private bool TryReadInto(Span<byte> destination, out int count)
    {
        ThrowIfFaulted();
        if (_viewLength < destination.Length && IsStale)
        {
            Refresh();
        }

        if (_viewLength >= destination.Length || _viewLength != 0 || _inputCompleted)
        {
            count = TakeInto(destination);
            return true;
        }

        count = 0;
        return false;
    }

    // asyncio reads Limit-sized blocks until EOF and joins them; waiting for the end with everything left in the
    // pipe gives the same bytes, copied once, and a cancellation loses none of them.
    private bool TryReadToEnd([NotNullWhen(true)] out byte[]? data)
    {
        ThrowIfFaulted();
        if (IsStale)
        {
            Refresh();
        }

        data = _inputCompleted ? Take(_viewLength) : null;
        return data is not null;
    }

    // asyncio's readexactly(n) loop: true once n bytes are buffered; at the end of the stream every buffered byte
    // goes to IncompleteReadException and the buffer is emptied.
    private bool TryReadExactly(int n)
    {
        ThrowIfFaulted();
        if (_viewLength < n && IsStale)
        {
            Refresh();
        }

        if (_viewLength >= n)
        {
            return true;
        }

        if (_inputCompleted)
        {
            throw new IncompleteReadException(Take(_viewLength), n);
        }

        return false;
    }
}
