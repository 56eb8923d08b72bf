using System.Buffers;

namespace AsyncStreams.Internal;

/// <summary>
/// The bytes a connection has accepted from <c>Write</c> but not yet handed to the operating system:
/// a queue of chunks rented from <see cref="ArrayPool{T}.Shared"/>. Small writes are appended to the
/// last chunk, so a burst of them leaves as one send. Not thread-safe: the transport's lock guards it.
/// </summary>
/// <remarks>
/// The send loop reads the bytes of queued chunks without the lock while a send is in flight. That is
/// safe because appends only write past a chunk's end, and chunks are returned to the pool only once
/// their bytes have been consumed (or on <see cref="Clear"/>, which the transport calls when no send is
/// in flight).
/// </remarks>
internal sealed class SendBuffer
{
    // A chunk larger than this is split, so that one huge write does not rent one huge array.
    private const int MaxChunkSize = 64 * 1024;

    // Room for this many chunks is made when the first one is queued: a connection whose writes all leave at
    // once (the usual case) never queues, and an idle one then carries no array.
    private const int InitialChunkSlots = 4;

    private readonly int _minChunkSize;
    private Chunk[] _chunks = [];
    private int _head;
    private int _count;

    /// <summary>Creates an empty buffer whose chunks hold at least <paramref name="minChunkSize"/> bytes.</summary>
    internal SendBuffer(int minChunkSize) => _minChunkSize = minChunkSize;

    /// <summary>Gets the number of bytes queued.</summary>
    internal long Length { get; private set; }

    /// <summary>Gets whether no bytes are queued.</summary>
    internal bool IsEmpty => Length == 0;

    /// <summary>Copies <paramref name="data"/> to the end of the queue, in new chunks of at least <paramref name="minChunkSize"/> bytes (0: the buffer's own minimum).</summary>
    internal void Append(ReadOnlySpan<byte> data, int minChunkSize = 0)
    {
        Length += data.Length;
        if (_count > 0)
        {
            ref Chunk last = ref _chunks[(_head + _count - 1) % _chunks.Length];
            int room = last.Array.Length - last.End;
            if (room > 0)
            {
                int n = Math.Min(room, data.Length);
                data[..n].CopyTo(last.Array.AsSpan(last.End));
                last.End += n;
                data = data[n..];
            }
        }

        while (!data.IsEmpty)
        {
            int size = Math.Clamp(data.Length, Math.Max(minChunkSize, _minChunkSize), MaxChunkSize);
            byte[] array = PooledBuffers.Rent(size);
            int n = Math.Min(array.Length, data.Length);
            data[..n].CopyTo(array);
            AddChunk(new Chunk(array, 0, n));
            data = data[n..];
        }
    }

    /// <summary>Gets the bytes of the first chunk.</summary>
    internal ReadOnlyMemory<byte> First()
    {
        if (_count == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        Chunk first = _chunks[_head];
        return first.Array.AsMemory(first.Start, first.End - first.Start);
    }

    /// <summary>Gets the number of chunks queued.</summary>
    internal int ChunkCount => _count;

    /// <summary>Fills <paramref name="segments"/> with up to <paramref name="maxSegments"/> queued chunks, in order.</summary>
    /// <returns>The number of bytes the segments hold.</returns>
    internal long CollectSegments(List<ArraySegment<byte>> segments, int maxSegments)
    {
        segments.Clear();
        long total = 0;
        int n = Math.Min(_count, maxSegments);
        for (int i = 0; i < n; i++)
        {
            Chunk chunk = _chunks[(_head + i) % _chunks.Length];
            segments.Add(new ArraySegment<byte>(chunk.Array, chunk.Start, chunk.End - chunk.Start));
            total += chunk.End - chunk.Start;
        }

        return total;
    }

    /// <summary>Removes <paramref name="count"/> bytes from the front of the queue, returning emptied chunks to the pool.</summary>
    internal void Consume(long count)
    {
        Length -= count;
        while (count > 0)
        {
            ref Chunk first = ref _chunks[_head];
            int available = first.End - first.Start;
            if (count < available)
            {
                first.Start += (int)count;
                return;
            }

            count -= available;
            PooledBuffers.Return(first.Array);
            first = default;
            _head = (_head + 1) % _chunks.Length;
            _count--;
        }

        if (_count == 0)
        {
            _head = 0;
        }
    }

    /// <summary>Drops every queued byte and returns every chunk to the pool.</summary>
    internal void Clear()
    {
        for (int i = 0; i < _count; i++)
        {
            ref Chunk chunk = ref _chunks[(_head + i) % _chunks.Length];
            PooledBuffers.Return(chunk.Array);
            chunk = default;
        }

        _head = 0;
        _count = 0;
        Length = 0;
    }

    private void AddChunk(Chunk chunk)
    {
        if (_count == _chunks.Length)
        {
            var grown = new Chunk[Math.Max(InitialChunkSlots, _chunks.Length * 2)];
            for (int i = 0; i < _count; i++)
            {
                grown[i] = _chunks[(_head + i) % _chunks.Length];
            }

            _chunks = grown;
            _head = 0;
        }

        _chunks[(_head + _count) % _chunks.Length] = chunk;
        _count++;
    }

    private struct Chunk(byte[] array, int start, int end)
    {
        public byte[] Array = array;
        public int Start = start;
        public int End = end;
    }
}
