using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace AsyncStreams;

// The waiting half of the reads that could not be served from the buffer: one reusable operation per kind of
// read and reader (reads never overlap), driven by the pipe's completion callback instead of an async state
// machine. A read that waits for data so allocates nothing, and the data that completes it runs the read's
// search and the caller's continuation directly, with no state machine of its own in between.
public sealed partial class StreamReader
{
    private abstract class PendingRead<TResult>
    {
        private readonly Action _onPipeReadCompleted;

        // Continuations run where the operation completes (the feeder's thread), like the pipe's inline scheduler.
        private ManualResetValueTaskSourceCore<TResult> _core;
        private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _pipeRead;
        private CancellationToken _cancellationToken;

        protected PendingRead(StreamReader reader)
        {
            Reader = reader;
            _onPipeReadCompleted = OnPipeReadCompleted;
        }

        protected StreamReader Reader { get; }

        public TResult GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        // Called by a read that found too little in the view, after the derived operation stored its arguments; the
        // read's guard stays held until the operation completes.
        protected short Start(CancellationToken cancellationToken)
        {
            _core.Reset();
            _cancellationToken = cancellationToken;
            var version = _core.Version;
            WaitForData();
            return version;
        }

        // Retries the read on the view that now holds more (or the end of the stream): true with its result, false
        // when it must wait again. A failure it throws completes the operation with that exception.
        protected abstract bool TryRead([MaybeNullWhen(false)] out TResult result);

        // Drops the arguments the operation keeps while it waits (so it holds no caller's buffer once done).
        protected abstract void Clear();

        [SuppressMessage("Reliability", "CA2012:Use ValueTasks correctly", Justification = "The pipe read is awaited exactly once, through its awaiter.")]
        private void WaitForData()
        {
            while (true)
            {
                ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter pipeRead;
                try
                {
                    // Marks the reader waiting when the pipe read does not complete at once (see FillAsync).
                    pipeRead = Reader.FillAsync(_cancellationToken).ConfigureAwait(false).GetAwaiter();
                }
                catch (Exception exception)
                {
                    Finish(exception);
                    return;
                }

                if (!pipeRead.IsCompleted)
                {
                    _pipeRead = pipeRead;
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
            Reader.ClearReaderWaiting();
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
            TResult? result;
            try
            {
                Reader.Accept(pipeRead.GetResult());
                if (!TryRead(out result))
                {
                    return false;
                }
            }
            catch (Exception exception)
            {
                Finish(exception);
                return true;
            }

            Release();
            _core.SetResult(result);
            return true;
        }

        private void Finish(Exception exception)
        {
            Release();
            _core.SetException(exception);
        }

        // Ends the read before its continuation runs, so the continuation may start the next one.
        private void Release()
        {
            Clear();
            _cancellationToken = default;
            Reader.ExitRead();
        }
    }
}
