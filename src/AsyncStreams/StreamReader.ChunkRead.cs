using System.Threading.Tasks.Sources;

namespace AsyncStreams;

// The waiting half of ReadLineAsync and ReadUntilAsync (see PendingRead): a server that reads a line per
// message resumes its own code straight from the data's arrival, with no line-reading state machine between.
public sealed partial class StreamReader
{
    private ChunkRead? _chunkRead;

    private ChunkRead ChunkReadOperation => _chunkRead ??= new ChunkRead(this);

    private sealed class ChunkRead(StreamReader reader) : PendingRead<byte[]>(reader), IValueTaskSource<byte[]>
    {
        private bool _line;
        private long _offset;
        private ReadOnlyMemory<byte> _separator;
        private IReadOnlyList<ReadOnlyMemory<byte>>? _separators;
        private int _minLength;
        private int _maxLength;

        // Goes on with a line read whose search has covered the first `offset` bytes.
        public ValueTask<byte[]> ReadLineAsync(long offset, CancellationToken cancellationToken)
        {
            _line = true;
            _offset = offset;
            return new(this, Start(cancellationToken));
        }

        // Goes on with a ReadUntilAsync whose search has covered the first `offset` bytes.
        public ValueTask<byte[]> ReadUntilAsync(
            long offset,
            ReadOnlyMemory<byte> separator,
            IReadOnlyList<ReadOnlyMemory<byte>>? separators,
            int minLength,
            int maxLength,
            CancellationToken cancellationToken)
        {
            _line = false;
            _offset = offset;
            _separator = separator;
            _separators = separators;
            _minLength = minLength;
            _maxLength = maxLength;
            return new(this, Start(cancellationToken));
        }

        protected override bool TryRead(out byte[] result) =>
            _line
                ? Reader.TryReadLine(ref _offset, out result!)
                : Reader.TryReadUntil(ref _offset, _separator, _separators, _minLength, _maxLength, out result!);

        protected override void Clear()
        {
            _separator = default;
            _separators = null;
        }
    }
}
