using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace AsyncStreams;

// The waiting half of ReadAsync(Memory) and ReadExactlyAsync(Memory): one reusable operation per reader (reads
// never overlap), driven by the pipe's completion callback instead of an async state machine, so a read that
// waits for data allocates nothing.
public sealed partial class StreamReader
{
    private MemoryRead? _memoryRead;

    private MemoryRead MemoryReadOperation => _memoryRead ??= new MemoryRead(this);

    private sealed class MemoryRead : IValueTaskSource<int>, IValueTaskSource
    {
        private readonly StreamReader _reader;
        private readonly Action _onPipeReadCompleted;

        // Continuations run where the operation completes (the feeder's thread), like the pipe's inline scheduler.
        private ManualResetValueTaskSourceCore<int> _core;
        private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _pipeRead;
        private Memory<byte> _destination;
        private bool _exactly;
        private CancellationToken _cancellationToken;

        public MemoryRead(StreamReader reader)
        {
            _reader = reader;
            _onPipeReadCompleted = OnPipeReadCompleted;
        }

        public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken) =>
            new(this, Start(destination, exactly: false, cancellationToken));

        public ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken) =>
            new(this, Start(destination, exactly: true, cancellationToken));

        int IValueTaskSource<int>.GetResult(short token) => _core.GetResult(token);

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        // Called by a read that found too little in the view; the read's guard stays held until Finish.
        private short Start(Memory<byte> destination, bool exactly, CancellationToken cancellationToken)
        {
            _core.Reset();
            _destination = destination;
            _exactly = exactly;
            _cancellationToken = cancellationToken;
            var version = _core.Version;
            WaitForData();
            return version;
        }

        [SuppressMessage("Reliability", "CA2012:Use ValueTasks correctly", Justification = "The pipe read is awaited exactly once, through its awaiter.")]
        private void WaitForData()
        {
            while (true)
            {
                ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter pipeRead;
                try
                {
                    _reader.ReleaseView();
                    pipeRead = _reader._pipe.ReadAsync(_cancellationToken).ConfigureAwait(false).GetAwaiter();
                }
                catch (Exception exception)
                {
                    Finish(exception);
                    return;
                }

                if (!pipeRead.IsCompleted)
                {
                    _pipeRead = pipeRead;
                    _reader.MarkReaderWaiting();
                    pipeRead.UnsafeOnCompleted(_onPipeReadCompleted);
                    return;
                }

                if (TryComplete(pipeRead))
                {
                    return;
                }
            }
        }

        private void OnPipeReadCompleted()
        {
            _reader.ClearReaderWaiting();
            var pipeRead = _pipeRead;
            _pipeRead = default;
            if (!TryComplete(pipeRead))
            {
                WaitForData();
            }
        }

        // Takes the pipe read's result as the view and retries the read; false when it must wait again.
        private bool TryComplete(ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter pipeRead)
        {
            int count;
            try
            {
                _reader.Accept(pipeRead.GetResult());
                if (_exactly)
                {
                    if (!_reader.TryReadExactly(_destination.Length))
                    {
                        return false;
                    }

                    count = _reader.TakeInto(_destination.Span);
                }
                else if (!_reader.TryReadInto(_destination.Span, out count))
                {
                    return false;
                }
            }
            catch (Exception exception)
            {
                Finish(exception);
                return true;
            }

            Finish(count);
            return true;
        }

        private void Finish(int count)
        {
            Release();
            _core.SetResult(count);
        }

        private void Finish(Exception exception)
        {
            Release();
            _core.SetException(exception);
        }

        // Ends the read before its continuation runs, so the continuation may start the next one.
        private void Release()
        {
            _destination = default;
            _cancellationToken = default;
            _reader.ExitRead();
        }
    }
}
