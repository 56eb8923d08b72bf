using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace AsyncStreams;

// ReadUntilAsync, ReadLineAsync and line enumeration: asyncio's readuntil loop, kept step for step so that
// LimitOverrunException.Consumed and the buffer left behind are what asyncio computes.
public sealed partial class StreamReader
{
    private const string SeparatorNotFoundMessage = "Separator is not found, and chunk exceeds the limit";
    private const string SeparatorBeyondLimitMessage = "Separator is found, but chunk is longer than limit";

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    private enum ScanOutcome
    {
        Found,
        FoundBeyondLimit,
        NotFoundBeyondLimit,
        EndOfStream,
        NeedMore,
    }

    /// <summary>Reads one line: the bytes up to and including the next <c>\n</c>.</summary>
    /// <param name="cancellationToken">Cancels the read; nothing is consumed then.</param>
    /// <returns>
    /// The line with its <c>\n</c>; at the end of the stream the last bytes without one, or an empty array when
    /// nothing is left.
    /// </returns>
    /// <exception cref="LimitOverrunException">
    /// The line is longer than <see cref="Limit"/> (not counting the <c>\n</c>). The over-long line is dropped:
    /// through its <c>\n</c> when buffered, otherwise the whole buffer, so the next read starts on fresh data.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another read is pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">The exception set with <see cref="SetException"/>.</exception>
    /// <remarks>asyncio equivalent: <c>StreamReader.readline()</c>, which raises <c>ValueError</c> on an overrun.</remarks>
    public ValueTask<byte[]> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        EnterRead(nameof(ReadLineAsync));
        long offset = 0;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!TryReadLine(ref offset, out byte[]? line))
            {
                return ChunkReadOperation.ReadLineAsync(offset, cancellationToken);
            }

            ExitRead();
            return new ValueTask<byte[]>(line);
        }
        catch (Exception exception)
        {
            ExitRead();
            return Failed<byte[]>(exception, cancellationToken);
        }
    }

    /// <summary>Reads the bytes up to and including the next occurrence of <paramref name="separator"/>.</summary>
    /// <param name="separator">The separator; at least one byte.</param>
    /// <param name="cancellationToken">Cancels the read; nothing is consumed then.</param>
    /// <returns>The chunk, ending with the separator.</returns>
    /// <exception cref="ArgumentException"><paramref name="separator"/> is empty.</exception>
    /// <exception cref="LimitOverrunException">
    /// The separator is not found within <see cref="Limit"/> bytes, or is found but starts beyond them; the data
    /// stays buffered and <see cref="LimitOverrunException.Consumed"/> says how much to read to get past it.
    /// </exception>
    /// <exception cref="IncompleteReadException">
    /// The stream ended before the separator; <see cref="IncompleteReadException.Partial"/> holds every buffered
    /// byte and the buffer is emptied.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another read is pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">The exception set with <see cref="SetException"/>.</exception>
    /// <remarks>asyncio equivalent: <c>StreamReader.readuntil(separator)</c>.</remarks>
    public ValueTask<byte[]> ReadUntilAsync(ReadOnlyMemory<byte> separator, CancellationToken cancellationToken = default)
    {
        if (separator.IsEmpty)
        {
            throw new ArgumentException("The separator must be at least one byte long.", nameof(separator));
        }

        EnterRead(nameof(ReadUntilAsync));
        long offset = 0;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!TryReadUntil(ref offset, separator, null, separator.Length, separator.Length, out byte[]? chunk))
            {
                return ChunkReadOperation.ReadUntilAsync(offset, separator, null, separator.Length, separator.Length, cancellationToken);
            }

            ExitRead();
            return new ValueTask<byte[]>(chunk);
        }
        catch (Exception exception)
        {
            ExitRead();
            return Failed<byte[]>(exception, cancellationToken);
        }
    }

    /// <summary>
    /// Reads the bytes up to and including the first match of any of <paramref name="separators"/>; the chunk
    /// ends where the first match ends, so the shortest chunk wins.
    /// </summary>
    /// <param name="separators">The separators; at least one, each at least one byte.</param>
    /// <param name="cancellationToken">Cancels the read; nothing is consumed then.</param>
    /// <returns>The chunk, ending with the separator that matched.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="separators"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="separators"/> is empty or holds an empty separator.</exception>
    /// <exception cref="LimitOverrunException">
    /// No separator is found within <see cref="Limit"/> bytes, or the match starts beyond them; the data stays buffered.
    /// </exception>
    /// <exception cref="IncompleteReadException">
    /// The stream ended before a separator; <see cref="IncompleteReadException.Partial"/> holds every buffered byte
    /// and the buffer is emptied.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another read is pending.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">The exception set with <see cref="SetException"/>.</exception>
    /// <remarks>asyncio equivalent: <c>StreamReader.readuntil((sep1, sep2, ...))</c> (Python 3.13).</remarks>
    public ValueTask<byte[]> ReadUntilAsync(IReadOnlyList<ReadOnlyMemory<byte>> separators, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(separators);
        if (separators.Count == 0)
        {
            throw new ArgumentException("At least one separator is required.", nameof(separators));
        }

        var minLength = int.MaxValue;
        var maxLength = 0;
        for (var i = 0; i < separators.Count; i++)
        {
            var length = separators[i].Length;
            if (length == 0)
            {
                throw new ArgumentException("Every separator must be at least one byte long.", nameof(separators));
            }

            minLength = Math.Min(minLength, length);
            maxLength = Math.Max(maxLength, length);
        }

        EnterRead(nameof(ReadUntilAsync));
        long offset = 0;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!TryReadUntil(ref offset, default, separators, minLength, maxLength, out var chunk))
            {
                return ChunkReadOperation.ReadUntilAsync(offset, default, separators, minLength, maxLength, cancellationToken);
            }

            ExitRead();
            return new ValueTask<byte[]>(chunk);
        }
        catch (Exception exception)
        {
            ExitRead();
            return Failed<byte[]>(exception, cancellationToken);
        }
    }

    /// <summary>Returns an enumerator over the lines of the stream, until its end.</summary>
    /// <param name="cancellationToken">Cancels the pending line read.</param>
    /// <returns>An enumerator yielding each line as <see cref="ReadLineAsync"/> returns it, ending at the end of the stream.</returns>
    /// <exception cref="LimitOverrunException">A line is longer than <see cref="Limit"/> (thrown by <c>MoveNextAsync</c>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (thrown by <c>MoveNextAsync</c>).</exception>
    /// <remarks>asyncio equivalent: <c>async for line in reader</c>.</remarks>
    public async IAsyncEnumerator<byte[]> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.Length == 0)
            {
                yield break;
            }

            yield return line;
        }
    }

    // asyncio's readline over readuntil(b'\n'): the partial line at the end of the stream, and the over-long line
    // dropped on an overrun. False when the read must wait for more data.
    private bool TryReadLine(ref long offset, [NotNullWhen(true)] out byte[]? line) =>
        TryTakeFromFirstSpan(offset, NewLine.Span, out line) || SearchLine(ref offset, out line);

    // TryReadLine past the first segment: the general search.
    private bool SearchLine(ref long offset, [NotNullWhen(true)] out byte[]? line)
    {
        switch (ScanForSeparator(ref offset, NewLine, null, 1, 1, out var matchStart, out var matchEnd))
        {
            case ScanOutcome.Found:
                line = Take(matchEnd);
                return true;
            case ScanOutcome.FoundBeyondLimit:
                DropOverlongLine(matchStart);
                throw new LimitOverrunException(SeparatorBeyondLimitMessage, ClampToInt(matchStart));
            case ScanOutcome.NotFoundBeyondLimit:
                DropOverlongLine(offset);
                throw new LimitOverrunException(SeparatorNotFoundMessage, ClampToInt(offset));
            case ScanOutcome.EndOfStream:
                line = Take(_viewLength);
                return true;
            default:
                line = null;
                return false;
        }
    }

    private bool TryReadUntil(
        ref long offset,
        ReadOnlyMemory<byte> separator,
        IReadOnlyList<ReadOnlyMemory<byte>>? separators,
        int minLength,
        int maxLength,
        [NotNullWhen(true)] out byte[]? chunk) =>
        (separators is null && TryTakeFromFirstSpan(offset, separator.Span, out chunk))
        || SearchUntil(ref offset, separator, separators, minLength, maxLength, out chunk);

    // TryReadUntil past the first segment: the general search.
    private bool SearchUntil(
        ref long offset,
        ReadOnlyMemory<byte> separator,
        IReadOnlyList<ReadOnlyMemory<byte>>? separators,
        int minLength,
        int maxLength,
        [NotNullWhen(true)] out byte[]? chunk)
    {
        switch (ScanForSeparator(ref offset, separator, separators, minLength, maxLength, out var matchStart, out var matchEnd))
        {
            case ScanOutcome.Found:
                chunk = Take(matchEnd);
                return true;
            case ScanOutcome.FoundBeyondLimit:
                throw new LimitOverrunException(SeparatorBeyondLimitMessage, ClampToInt(matchStart));
            case ScanOutcome.NotFoundBeyondLimit:
                throw new LimitOverrunException(SeparatorNotFoundMessage, ClampToInt(offset));
            case ScanOutcome.EndOfStream:
                throw new IncompleteReadException(Take(_viewLength), null);
            default:
                chunk = null;
                return false;
        }
    }

    // The common case of a line or a chunk with one separator: it ends within the view's first segment, so it is
    // found, copied and consumed without sequence arithmetic. The first match within that span is the first in the
    // buffer (a match crossing into the next segment starts after it). False leaves everything to the general
    // search, which also decides over-long chunks.
    private bool TryTakeFromFirstSpan(long offset, ReadOnlySpan<byte> separator, [NotNullWhen(true)] out byte[]? chunk)
    {
        ThrowIfFaulted();

        // A search under way (offset > 0) goes on where it stopped, in the general search.
        ReadOnlySpan<byte> first = offset == 0 ? FirstSpan : default;
        var index = separator.Length == 1 ? first.IndexOf(separator[0]) : first.IndexOf(separator);
        if (index >= 0 && index <= Limit)
        {
            chunk = CopyToNewArray(first[..(index + separator.Length)]);
            Consume(chunk.Length);
            return true;
        }

        chunk = null;
        return false;
    }

    // One pass of asyncio's readuntil loop. `offset` is asyncio's: the number of bytes from the start of the
    // buffer known to hold no match start, so each byte is searched once however the data arrives.
    private ScanOutcome ScanForSeparator(
        ref long offset,
        ReadOnlyMemory<byte> separator,
        IReadOnlyList<ReadOnlyMemory<byte>>? separators,
        int minLength,
        int maxLength,
        out long matchStart,
        out long matchEnd)
    {
        matchStart = -1;
        matchEnd = -1;
        while (true)
        {
            ThrowIfFaulted();
            var length = _viewLength;
            if (length - offset >= minLength)
            {
                if (SeparatorSearch.FindEarliestEnd(View.Slice(offset), separator, separators, out var start, out var end))
                {
                    matchStart = offset + start;
                    matchEnd = offset + end;
                    return matchStart > Limit ? ScanOutcome.FoundBeyondLimit : ScanOutcome.Found;
                }

                // A match may still begin in the last maxLength - 1 bytes, completed by bytes yet to come.
                offset = Math.Max(0, length + 1 - maxLength);
                if (offset > Limit)
                {
                    if (IsStale)
                    {
                        Refresh();
                        continue;
                    }

                    return ScanOutcome.NotFoundBeyondLimit;
                }
            }

            // A complete match can arrive with the last bytes, so the end of the stream is checked after the search.
            if (_inputCompleted)
            {
                return ScanOutcome.EndOfStream;
            }

            if (IsStale)
            {
                Refresh();
                continue;
            }

            return ScanOutcome.NeedMore;
        }
    }

    // asyncio's readline overrun handling: drop through the separator when the buffer holds it at `consumed`,
    // otherwise drop the whole buffer.
    private void DropOverlongLine(long consumed)
    {
        Span<byte> next = stackalloc byte[1];
        if (consumed < _viewLength)
        {
            View.Slice(consumed, 1).CopyTo(next);
            if (next[0] == (byte)'\n')
            {
                Consume(consumed + 1);
                return;
            }
        }

        Consume(_viewLength);
    }
}
