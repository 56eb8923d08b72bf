using System.Threading.Tasks.Sources;

namespace AsyncStreams;

// The waiting half of ReadAsync(Memory) and ReadExactlyAsync(Memory) (see PendingRead).
public sealed partial class StreamReader
{
    private MemoryRead? _memoryRead;

    private MemoryRead MemoryReadOperation => _memoryRead ??= new MemoryRead(this);

    private sealed class MemoryRead(StreamReader reader) : PendingRead<int>(reader), IValueTaskSource<int>, IValueTaskSource
    {
        private Memory<byte> _destination;
        private bool _exactly;

        public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            _destination = destination;
            _exactly = false;
            return new(this, Start(cancellationToken));
        }

        public ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
        {
            _destination = destination;
            _exactly = true;
            return new(this, Start(cancellationToken));
        }

        void IValueTaskSource.GetResult(short token) => GetResult(token);

        protected override bool TryRead(out int result)
        {
            if (_exactly)
            {
                if (!Reader.TryReadExactly(_destination.Length))
                {
                    result = 0;
                    return false;
                }

                result = Reader.TakeInto(_destination.Span);
                return true;
            }

            return Reader.TryReadInto(_destination.Span, out result);
        }

        protected override void Clear() => _destination = default;
    }
}
