using System.IO.Pipelines;
using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>
/// The receive side of a plain connection registered with an <see cref="EventLoop"/>. No async loop waits for
/// data: the loop's thread calls <see cref="IEventLoopHandler.OnReady"/> when the socket becomes readable, and that
/// call receives, feeds the reader and so runs the reader's continuations (the user's code up to its next wait),
/// as asyncio's loop calls a protocol's data_received. An idle connection therefore holds no suspended state
/// machine and no wait object, only the few fields below.
/// </summary>
/// <remarks>
/// One thread at a time receives (the owner of the <see cref="ReceiverRunning"/> state): the loop's thread on an
/// event, or the thread that gives the reader room again after a pause. An event that comes while a thread
/// receives makes that thread receive again before it goes idle, since the registration is edge-triggered and
/// will not report the same data twice.
/// </remarks>
internal sealed partial class SocketTransport : IEventLoopHandler
{
    private const int ReceiverIdle = 0;      // Waiting for the loop to report the socket readable.
    private const int ReceiverRunning = 1;   // A thread receives and feeds the reader.
    private const int ReceiverRerun = 2;     // Running, and the loop reported readiness meanwhile: receive again first.
    private const int ReceiverPaused = 3;    // The reader holds more than 2 x Limit: no receive until it has room.
    private const int ReceiverEnded = 4;     // EOF, an error, a stop, or the reader no longer reads.

    private EventLoop? _loop;                // The loop this connection is registered with, if any.
    private long _loopId;                    // The registration's key in that loop.
    private int _receiverState;
    private int _receiverStop;               // 1 once CancelReceiveWait asked the receiver to stop.
    private int _receiverDone;               // 1 once the receiver has ended (ReceiveTask completes).
    private int _receiveSize = ReceiveSizeHint;
    private volatile bool _hungUp;           // The loop saw the peer's end (FIN or reset) or an error.
    private TaskCompletionSource? _receiverEnded; // ReceiveTask on the event-loop path, made on first request.

    /// <summary>Registers the socket with an event loop, which then drives receiving; false where there is none.</summary>
    private bool TryStartReceiver()
    {
        if (EventLoop.TryRegister(_socket, this))
        {
            return true;
        }

        Volatile.Write(ref _loop, null);
        return false;
    }

    /// <inheritdoc/>
    void IEventLoopHandler.OnRegistering(EventLoop loop, long id)
    {
        _loopId = id;
        Volatile.Write(ref _loop, loop);
    }

    /// <inheritdoc/>
    long IEventLoopHandler.RegistrationId => _loopId;

    /// <summary>Gets a task that completes when the event-loop receiver has ended; made only when asked for.</summary>
    private Task ReceiverEndedTask => GetOrMakeTask(ref _receiverEnded, ref _receiverDone);

    /// <inheritdoc/>
    void IEventLoopHandler.OnReady(bool hangUp)
    {
        if (hangUp)
        {
            // From here on a short receive no longer means the socket is drained: the end itself (a receive of 0,
            // or the error) comes after the data with no further event, so the receiver receives again at once.
            _hungUp = true;
        }

        while (true)
        {
            int state = Volatile.Read(ref _receiverState);
            if (state == ReceiverIdle)
            {
                if (Interlocked.CompareExchange(ref _receiverState, ReceiverRunning, ReceiverIdle) == ReceiverIdle)
                {
                    Receive();
                    return;
                }
            }
            else if (state == ReceiverRunning)
            {
                if (Interlocked.CompareExchange(ref _receiverState, ReceiverRerun, ReceiverRunning) == ReceiverRunning)
                {
                    return;
                }
            }
            else
            {
                // Already told to receive again, paused (resuming receives anyway), or ended.
                return;
            }
        }
    }

    /// <summary>
    /// Receives and feeds the reader until the socket is drained, the reader is full, or the stream ends; the
    /// caller owns the <see cref="ReceiverRunning"/> state. One non-blocking recv per wake-up in the usual case: a
    /// receive that did not fill its buffer has drained the socket (new data brings a new event).
    /// </summary>
    private void Receive()
    {
        try
        {
            StreamReader.FeedInput input = _reader.Input;
            SafeSocketHandle handle = _socket.SafeHandle;
            int maxReceiveSize = Math.Clamp(_reader.Limit, ReceiveSizeHint, MaxReceiveSize);
            while (true)
            {
                if (Volatile.Read(ref _receiverStop) != 0)
                {
                    EndStoppedReceiver();
                    return;
                }

                Memory<byte> memory = ReceiveMemory(input, _receiveSize, maxReceiveSize);

                int received = SocketSyscalls.Receive(handle, memory.Span, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    if (TryGoIdle())
                    {
                        return;
                    }

                    continue;
                }

                if (error != SocketError.Success)
                {
                    throw new SocketException((int)error);
                }

                if (received == 0)
                {
                    OnPeerEof();
                    EndReceiver();
                    return;
                }

                bool filled = received == memory.Length;
                _receiveSize = NextReceiveSize(_receiveSize, received, memory.Length, maxReceiveSize);

                input.Advance(received);
                OnReceived(received);
                if (!Feed(input, out bool paused))
                {
                    EndReceiver();
                    return;
                }

                if (paused)
                {
                    return;
                }

                // A full buffer may have left bytes in the kernel, and after the peer's end the end itself is still
                // to be received; the edge-triggered registration reports neither again.
                if (!filled && !_hungUp && TryGoIdle())
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            OnReceiveFailed(ex);
            EndReceiver();
        }
    }

    /// <summary>
    /// Publishes the advanced bytes to the reader (running its continuations, with this connection's writes held:
    /// see <see cref="Write"/>), then pauses while the reader holds more than 2 x Limit (asyncio's pause_reading).
    /// </summary>
    /// <returns>False when receiving must end: the reader no longer reads, or StartTls stopped the receiver.</returns>
    private bool Feed(StreamReader.FeedInput input, out bool paused)
    {
        paused = false;
        FlushResult flush;
        _holdUntil = _reader.ReceivedBytes + input.UnflushedBytes;
        _holdThread = Environment.CurrentManagedThreadId;
        try
        {
            // The reader's pipe has no pause threshold, so its flush never waits.
            flush = input.Flush();
        }
        finally
        {
            _holdThread = 0;
            SendHeldWrites();
        }

        if (ReaderGone(flush))
        {
            return false;
        }

        // The wait is a task only while paused (a completed one otherwise), so this allocates nothing per receive.
        Task room = _reader.WaitForRoomAsync(CancellationToken.None).AsTask();
        if (!room.IsCompletedSuccessfully)
        {
            _waitingForReader = true;
            paused = true;

            // An event that came meanwhile is dropped with the Rerun state: resuming receives anyway.
            Interlocked.Exchange(ref _receiverState, ReceiverPaused);
            if (Volatile.Read(ref _receiverStop) != 0
                && Interlocked.CompareExchange(ref _receiverState, ReceiverEnded, ReceiverPaused) == ReceiverPaused)
            {
                _waitingForReader = false;
                EndStoppedReceiver();
                return true;
            }

            room.GetAwaiter().UnsafeOnCompleted(ResumeReceiving);
            return true;
        }

        return !_stopReceiving;
    }

    /// <summary>Resumes receiving once the reader has room (on the thread that made it).</summary>
    private void ResumeReceiving()
    {
        _waitingForReader = false;
        if (Interlocked.CompareExchange(ref _receiverState, ReceiverRunning, ReceiverPaused) == ReceiverPaused)
        {
            Receive();
        }
    }

    /// <summary>Leaves the running state to wait for the next event; false when an event came meanwhile (receive again).</summary>
    private bool TryGoIdle()
    {
        if (Interlocked.CompareExchange(ref _receiverState, ReceiverIdle, ReceiverRunning) == ReceiverRunning)
        {
            // Pairs with StopReceiver: either it sees the idle state, or this sees its flag.
            if (Volatile.Read(ref _receiverStop) != 0
                && Interlocked.CompareExchange(ref _receiverState, ReceiverEnded, ReceiverIdle) == ReceiverIdle)
            {
                EndStoppedReceiver();
            }

            return true;
        }

        Volatile.Write(ref _receiverState, ReceiverRunning);
        return false;
    }

    /// <summary>
    /// Asks the receiver to stop (a close, or StartTls). An idle or paused receiver ends now, on the thread pool, so
    /// that the reader's continuations (which its end may run) never run inside the caller; a running one ends at
    /// its next step.
    /// </summary>
    private void StopReceiver()
    {
        Interlocked.Exchange(ref _receiverStop, 1);
        while (true)
        {
            int state = Volatile.Read(ref _receiverState);
            if (state is not (ReceiverIdle or ReceiverPaused))
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _receiverState, ReceiverEnded, state) == state)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static self => self.EndStoppedReceiver(), this, preferLocal: false);
                return;
            }
        }
    }

    /// <summary>Ends a receiver that was told to stop: quietly for StartTls, with EOF for the reader after a close.</summary>
    private void EndStoppedReceiver()
    {
        OnReceiveFailed(new OperationCanceledException("The receive loop was stopped."));
        EndReceiver();
    }

    /// <summary>Marks the receiver ended, removes the registration and completes <see cref="ReceiveTask"/>.</summary>
    private void EndReceiver()
    {
        // A stop that comes meanwhile (the reader's end may run code that closes) sees a running receiver and leaves
        // the end to it, so whichever path ends the receiver, it ends once, here.
        Volatile.Write(ref _receiverState, ReceiverEnded);
        Volatile.Read(ref _loop)?.Unregister(_loopId);
        Interlocked.Exchange(ref _receiverDone, 1);
        Volatile.Read(ref _receiverEnded)?.TrySetResult();
    }
}
