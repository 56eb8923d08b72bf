using System.Threading.Tasks.Sources;

namespace AsyncStreams.Internal;

/// <summary>
/// A socket's registration with an <see cref="EventLoop"/>: the receive loop awaits <see cref="WaitAsync"/>, and the
/// loop's thread completes it when the socket becomes readable, running the receive loop (and the reader's
/// continuations after it) right there, as asyncio runs a protocol's data_received on the loop that saw the event.
/// </summary>
/// <remarks>
/// The registration is edge-triggered: the kernel reports new data once. An event that comes while nobody waits
/// is remembered (<see cref="Ready"/>), so that the next wait returns at once. The receive loop consumes that state
/// before each receive, and marks it again itself when a receive filled its whole buffer (more may be queued).
/// One waiter at a time: only the connection's receive loop waits.
/// </remarks>
internal sealed class SocketReadiness : IValueTaskSource
{
    private const int Idle = 0;      // Nothing known to be readable; nobody waits.
    private const int Ready = 1;     // An event came while nobody waited.
    private const int Waiting = 2;   // The receive loop waits.
    private const int Canceled = 3;  // The receive loop was told to stop: every wait fails from here on.

    private readonly EventLoop _loop;
    private ManualResetValueTaskSourceCore<bool> _core;
    private int _state;
    private volatile bool _hungUp;

    internal SocketReadiness(EventLoop loop, long id)
    {
        _loop = loop;
        Id = id;
        _core.RunContinuationsAsynchronously = false;
    }

    /// <summary>
    /// Gets whether the loop saw the peer's end (FIN or reset) or an error. From then on a short receive no longer
    /// means the socket is drained: the end itself (a receive of 0, or the error) comes after the data, with no
    /// further event, so the receive loop receives again without waiting.
    /// </summary>
    internal bool HungUp => _hungUp;

    /// <summary>Gets the key of this registration in its loop.</summary>
    internal long Id { get; }

    /// <summary>Completes when the socket may be readable; faults with <see cref="OperationCanceledException"/> once canceled.</summary>
    internal ValueTask WaitAsync()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Ready)
            {
                if (Interlocked.CompareExchange(ref _state, Idle, Ready) == Ready)
                {
                    return default;
                }

                continue;
            }

            if (state == Canceled)
            {
                return ValueTask.FromException(new OperationCanceledException("The receive loop was stopped."));
            }

            _core.Reset();
            if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
            {
                return new ValueTask(this, _core.Version);
            }
        }
    }

    /// <summary>Records that the socket may be readable: wakes the waiter on this thread, or remembers it for the next wait.</summary>
    internal void SetReady()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Waiting)
            {
                if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
                {
                    _core.SetResult(true);
                    return;
                }
            }
            else if (state == Idle)
            {
                if (Interlocked.CompareExchange(ref _state, Ready, Idle) == Idle)
                {
                    return;
                }
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>Records that the peer's end or an error was reported; see <see cref="HungUp"/>.</summary>
    internal void SetHangUp() => _hungUp = true;

    /// <summary>Fails the current and every later wait; a waiter resumes on the thread pool, not on the canceling thread.</summary>
    internal void Cancel()
    {
        if (Interlocked.Exchange(ref _state, Canceled) == Waiting)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static self => self._core.SetException(new OperationCanceledException("The receive loop was stopped.")),
                this,
                preferLocal: false);
        }
    }

    /// <summary>Removes the registration from its loop: later events for the socket are ignored.</summary>
    internal void Unregister() => _loop.Unregister(this);

    /// <inheritdoc/>
    public void GetResult(short token) => _core.GetResult(token);

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
