using System.Buffers;

namespace AsyncStreams;

public sealed partial class StreamReader
{
    // Separator search over a segmented buffer with the vectorised span IndexOf: whole matches inside a segment
    // are found by IndexOf on that segment, and only the last (length - 1) bytes of a segment, where a match may
    // cross into the next one, are checked across the boundary.
    private static class SeparatorSearch
    {
        // Finds the match that ends first among the separators (asyncio 3.13: the shortest chunk wins; on equal
        // ends the shorter separator, as asyncio tries separators sorted by length and keeps the first).
        public static bool FindEarliestEnd(
            in ReadOnlySequence<byte> buffer,
            ReadOnlyMemory<byte> separator,
            IReadOnlyList<ReadOnlyMemory<byte>>? separators,
            out long start,
            out long end)
        {
            if (separators is null)
            {
                start = IndexOf(buffer, separator.Span);
                end = start + separator.Length;
                return start >= 0;
            }

            start = -1;
            end = -1;
            var bestLength = 0;
            for (var i = 0; i < separators.Count; i++)
            {
                ReadOnlySpan<byte> candidate = separators[i].Span;
                var index = IndexOf(buffer, candidate);
                if (index < 0)
                {
                    continue;
                }

                var candidateEnd = index + candidate.Length;
                if (start < 0 || candidateEnd < end || (candidateEnd == end && candidate.Length < bestLength))
                {
                    start = index;
                    end = candidateEnd;
                    bestLength = candidate.Length;
                }
            }

            return start >= 0;
        }

        public static long IndexOf(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> separator)
        {
            if (buffer.IsSingleSegment)
            {
                return buffer.FirstSpan.IndexOf(separator);
            }

            return separator.Length == 1 ? IndexOfByte(buffer, separator[0]) : IndexOfMultiSegment(buffer, separator);
        }

        private static long IndexOfByte(in ReadOnlySequence<byte> buffer, byte value)
        {
            long offset = 0;
            SequencePosition position = buffer.Start;
            while (buffer.TryGet(ref position, out ReadOnlyMemory<byte> memory))
            {
                var index = memory.Span.IndexOf(value);
                if (index >= 0)
                {
                    return offset + index;
                }

                offset += memory.Length;
            }

            return -1;
        }

        private static long IndexOfMultiSegment(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> separator)
        {
            long offset = 0;
            SequencePosition position = buffer.Start;
            while (buffer.TryGet(ref position, out ReadOnlyMemory<byte> memory))
            {
                ReadOnlySpan<byte> span = memory.Span;
                var index = span.IndexOf(separator);
                if (index >= 0)
                {
                    return offset + index;
                }

                // `position` now points at the next segment, where a crossing match continues.
                var from = Math.Max(0, span.Length - separator.Length + 1);
                while (from < span.Length)
                {
                    var candidate = span[from..].IndexOf(separator[0]);
                    if (candidate < 0)
                    {
                        break;
                    }

                    from += candidate;
                    if (MatchesAcross(buffer, position, span[from..], separator))
                    {
                        return offset + from;
                    }

                    from++;
                }

                offset += span.Length;
            }

            return -1;
        }

        // Whether `head` (the tail of one segment) followed by the bytes from `next` on starts with `separator`.
        private static bool MatchesAcross(
            in ReadOnlySequence<byte> buffer,
            SequencePosition next,
            ReadOnlySpan<byte> head,
            ReadOnlySpan<byte> separator)
        {
            if (!separator.StartsWith(head))
            {
                return false;
            }

            ReadOnlySpan<byte> rest = separator[head.Length..];
            while (!rest.IsEmpty && buffer.TryGet(ref next, out ReadOnlyMemory<byte> memory))
            {
                ReadOnlySpan<byte> span = memory.Span;
                var n = Math.Min(span.Length, rest.Length);
                if (!span[..n].SequenceEqual(rest[..n]))
                {
                    return false;
                }

                rest = rest[n..];
            }

            return rest.IsEmpty;
        }
    }
}
