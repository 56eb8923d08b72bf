using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Internal;

/// <summary>
/// One connection: owns the socket (and the <see cref="SslStream"/> over it when TLS), runs the receive loop
/// that feeds the connection's <see cref="StreamReader"/>, queues and sends what the <see cref="StreamWriter"/>
/// writes, and runs the close sequence. It is asyncio's transport and <c>StreamReaderProtocol</c> in one.
/// </summary>
/// <remarks>
/// Thread-safety: the write side (send buffer, flags, waiters) is guarded by <see cref="_lock"/>; the receive
/// loop is the only feeder of the reader's pipe. Continuations run on whichever thread completed the I/O: on
/// Linux a plain connection's receive loop runs on an <see cref="EventLoop"/> thread, so a message costs no thread
/// hop at all; otherwise there is the one from the runtime's socket engine to the thread pool.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The receive loop's CancellationTokenSource has no timer and needs no disposal; the gather sender is disposed when sending ends after the connection closes; the socket is closed by the close sequence.")]
internal sealed partial class SocketTransport
{
    // The write side's lock. It is the send buffer (private, never exposed, never locked by anything else): a
    // separate lock object would add 40 bytes to every connection.
    private readonly object _lock;
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly TransportSettings _settings;
    private readonly ILogger _logger;
    // WaitClosedAsync's task, made on first request: most server connections never ask for it. _closedDone is set
    // once the close has completed; Closed and CompleteClosedAsync each publish their side with a full fence
    // before reading the other's, so the task is completed whichever comes first.
    private TaskCompletionSource? _closed;
    private int _closedDone;
    private readonly ITransportClosedObserver? _closedObserver;
    private SslStream? _ssl;
    private object? _sslOptions;

    // Guarded by _lock.
    private bool _closeRequested;   // Close was called: Write throws from here on.
    private bool _eofRequested;     // WriteEof was called: Write throws from here on.
    private bool _closing;          // A close (user, peer over TLS, loss or abort) has begun: IsClosing.
    private bool _closeStarted;     // The close sequence runs once.
    private bool _lost;             // The socket is closed or failed: Write drops, DrainAsync throws.
    private Exception? _lossException;

    // Set once by whichever path closes the socket first.
    private int _socketClosed;

    // Set once by whichever of the TLS receive loop and the close sequence sends close_notify.
    private int _closeNotifyClaimed;

    // Set when the TLS receive loop has ended, so that no read of the TLS stream is in flight any more.
    private int _tlsReceiveEnded;

    /// <summary>Creates the transport; <see cref="Start"/> starts its loops.</summary>
    internal SocketTransport(
        Socket socket, SslStream? ssl, object? sslOptions, StreamReader reader, TransportSettings settings,
        ITransportClosedObserver? closedObserver = null)
    {
        _closedObserver = closedObserver;
        _socket = socket;
        _ssl = ssl;
        _sslOptions = sslOptions;
        _reader = reader;
        _settings = settings;
        _logger = settings.Logger;
        _sendBuffer = new SendBuffer(ssl is null ? PlainChunkSize : TlsChunkSize);
        _lock = _sendBuffer;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
    }

    /// <summary>Gets the connection's reader.</summary>
    internal StreamReader Reader => _reader;

    /// <summary>Gets the socket.</summary>
    internal Socket Socket => _socket;

    /// <summary>Gets the TLS stream, or null on a plain connection.</summary>
    internal SslStream? SslStream => Volatile.Read(ref _ssl);

    /// <summary>Gets the authentication options the TLS stream was made with, or null.</summary>
    internal object? SslOptions => Volatile.Read(ref _sslOptions);

    /// <summary>Gets the local end point, read once when the connection started.</summary>
    internal EndPoint? LocalEndPoint { get; }

    /// <summary>Gets the remote end point, read once when the connection started.</summary>
    internal EndPoint? RemoteEndPoint { get; }

    /// <summary>Gets the settings.</summary>
    internal TransportSettings Settings => _settings;

    /// <summary>Gets whether a close has begun or the connection is lost.</summary>
    internal bool IsClosing
    {
        get
        {
            lock (_lock)
            {
                return _closing;
            }
        }
    }

    /// <summary>Gets a task that completes once the socket is closed and the reader has seen the end.</summary>
    internal Task Closed => GetOrMakeTask(ref _closed, ref _closedDone);

    /// <summary>
    /// Gets the task in <paramref name="slot"/>, making it on first request, completed if <paramref name="done"/> is
    /// set. The completing side sets <paramref name="done"/> and then completes whatever task is in the slot; each
    /// side publishes its own with a full fence before reading the other's, so the task completes whichever is first.
    /// </summary>
    private static Task GetOrMakeTask(ref TaskCompletionSource? slot, ref int done)
    {
        if (Volatile.Read(ref slot) is { } existing)
        {
            return existing.Task;
        }

        var made = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TaskCompletionSource task = Interlocked.CompareExchange(ref slot, made, null) ?? made;
        if (Volatile.Read(ref done) != 0)
        {
            task.TrySetResult();
        }

        return task.Task;
    }

    /// <summary>Gets whether the close has completed (<see cref="Closed"/> has, or would have, completed), without making its task.</summary>
    internal bool IsClosed => Volatile.Read(ref _closedDone) != 0;

    /// <summary>Configures the socket and starts the receive loop.</summary>
    internal void Start()
    {
        if (_socket.ProtocolType == ProtocolType.Tcp && _settings.NoDelay)
        {
            _socket.NoDelay = true;
        }

        SelectByteTags();
        if (_ssl is null)
        {
            // Write tries one immediate send, and receiving drains the socket after a readiness wake-up, each with
            // one non-blocking system call and no thread hop. On an event loop both call libc with MSG_DONTWAIT,
            // and the loop's events drive receiving (the registration's first event may come before this returns);
            // elsewhere the socket itself is made non-blocking for the runtime's calls.
            _directIo = true;
            if (TryStartReceiver())
            {
                return;
            }

            _directIo = false;
            _socket.Blocking = false;
        }

        _receiveCts = new CancellationTokenSource();
        _receiveTask = _ssl is null ? ReceivePlainAsync(_receiveCts.Token) : ReceiveTlsAsync(_ssl, _receiveCts.Token);
    }

    /// <summary>Begins a graceful close: no more writes, flush the queue, then FIN (close_notify first over TLS).</summary>
    internal void Close()
    {
        bool start;
        lock (_lock)
        {
            _closeRequested = true;
            start = BeginClosingLocked();
        }

        if (start)
        {
            RunCloseSequence();
        }
    }

    /// <summary>Resets the connection now: linger 0, queued bytes dropped, the reader sees the end.</summary>
    internal void Abort()
    {
        lock (_lock)
        {
            _closing = true;
            _closeStarted = true;
            MarkLostLocked(null);
        }

        Log.ConnectionAborted(_logger, RemoteEndPoint);
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Linger does not apply to every socket type (Unix sockets) or the socket is already gone; closing is what matters.
        }

        CloseSocket(shutdown: false);
    }

    /// <summary>Marks the connection closing and says whether the caller must start the close sequence now.</summary>
    private bool BeginClosingLocked()
    {
        _closing = true;
        if (_closeStarted)
        {
            return false;
        }

        if (_sending && !_lost)
        {
            // The send loop starts the close sequence once the queue is empty, so queued bytes go out first.
            return false;
        }

        _closeStarted = true;
        return true;
    }

    /// <summary>Runs the close sequence once the queue has been sent.</summary>
    private void RunCloseSequence()
    {
        SslStream? ssl = SslStream;
        if (ssl is null || Volatile.Read(ref _socketClosed) != 0)
        {
            CloseSocket(shutdown: true);
        }
        else
        {
            _ = CloseTlsAsync(ssl);
        }
    }

    /// <summary>Sends close_notify and waits for the peer's, bounded by SslShutdownTimeout, as asyncio's SSL transport does.</summary>
    private async Task CloseTlsAsync(SslStream ssl)
    {
        // From here on the receive loop drops what the peer still sends and no longer waits for the reader,
        // so that the peer's close_notify is seen even when nobody reads.
        _discardReceived = true;

        // Pairs with the barrier in ReceiveTlsAsync: either this sees the loop ended, or the loop sees the flag.
        Interlocked.MemoryBarrier();
        bool loopEnded = Volatile.Read(ref _tlsReceiveEnded) != 0;
        CancelReceiveWait();

        using var timeout = new CancellationTokenSource(_settings.SslShutdownTimeout);
        try
        {
            if (loopEnded)
            {
                // No read can be in flight any more, so close_notify goes out from here; otherwise the receive loop
                // sends it between two reads (see SendCloseNotifyAsync).
                await SendCloseNotifyAsync(ssl).AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
            }

            // The loop ends at the peer's close_notify or EOF (or at once if it had already ended).
            await ReceiveTask.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.SslShutdownTimedOut(_logger, RemoteEndPoint, _settings.SslShutdownTimeout);
        }

        CloseSocket(shutdown: true);
    }

    /// <summary>Sends close_notify once; the caller guarantees that no read of <paramref name="ssl"/> is in flight.</summary>
    /// <returns>False when close_notify could not be sent, so that waiting for the peer's answer is pointless.</returns>
    /// <remarks>
    /// SslStream does not serialise its shutdown with a read: both drive the same native TLS session, and OpenSSL
    /// sessions are not safe for concurrent use. Sent during a read, close_notify would race the receive loop's
    /// processing of a server's TLS 1.3 session tickets right after the handshake: OpenSSL refuses it ("shutdown while
    /// in init") or the read fails, and the connection closes without the close_notify exchange. Hence only the
    /// receive loop, between two reads, or the close sequence once that loop has ended, calls this.
    /// </remarks>
    private async ValueTask<bool> SendCloseNotifyAsync(SslStream ssl)
    {
        if (Interlocked.Exchange(ref _closeNotifyClaimed, 1) != 0)
        {
            return true;
        }

        if (Volatile.Read(ref _socketClosed) != 0)
        {
            return false;
        }

        try
        {
            await ssl.ShutdownAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            // A close_notify that cannot be sent ends in a plain close at once, as asyncio's SSL protocol closes
            // the transport when its shutdown fails.
            Log.SslShutdownFailed(_logger, RemoteEndPoint, ex);
            return false;
        }
    }

    /// <summary>Records the loss of the connection: its reader gets an <see cref="IOException"/> and the socket is closed.</summary>
    private void OnConnectionLost(Exception cause)
    {
        IOException error = cause as IOException ?? new IOException("The connection was lost: " + cause.Message, cause);
        lock (_lock)
        {
            if (_lost)
            {
                return;
            }

            _closing = true;
            _closeStarted = true;
            MarkLostLocked(error);
        }

        Log.ConnectionLost(_logger, RemoteEndPoint, cause);
        SetReaderException(error);
        CloseSocket(shutdown: false);
    }

    /// <summary>Marks the connection lost: writes drop, waiting drains wake (and throw), queued bytes are released.</summary>
    private void MarkLostLocked(Exception? error)
    {
        if (_lost)
        {
            return;
        }

        _lost = true;
        _lossException = error;
        _drainWaiter?.TrySetResult();
        _drainWaiter = null;
        _idleWaiter?.TrySetResult();
        _idleWaiter = null;
        if (!_sending)
        {
            // A send in flight still reads the chunks; the send loop releases them when it ends.
            _sendBuffer.Clear();
            DisposeSenderLocked();
        }
    }

    /// <summary>Closes the socket once (FIN first when <paramref name="shutdown"/>), then completes <see cref="Closed"/> after the receive loop ends.</summary>
    private void CloseSocket(bool shutdown)
    {
        if (Interlocked.Exchange(ref _socketClosed, 1) != 0)
        {
            return;
        }

        lock (_lock)
        {
            MarkLostLocked(null);
        }

        // A receive loop waiting for room in the reader would not notice the closed socket.
        CancelReceiveWait();
        if (shutdown)
        {
            try
            {
                // Shutdown sends FIN after the queued bytes and wakes a receive still waiting.
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The peer may have reset the connection already; the socket is closed below either way.
            }
        }

        SslStream?.Dispose();
        _socket.Dispose();
        _ = CompleteClosedAsync();
    }

    private async Task CompleteClosedAsync()
    {
        // The receive loop cannot fail: it reports every error to the reader. Waiting for it means the
        // reader has seen its end (EOF or the error) when WaitClosedAsync completes.
        await ReceiveTask.ConfigureAwait(false);
        Log.ConnectionClosed(_logger, RemoteEndPoint);
        Interlocked.Exchange(ref _closedDone, 1);
        Volatile.Read(ref _closed)?.TrySetResult();
        _closedObserver?.OnTransportClosed();
    }
}
