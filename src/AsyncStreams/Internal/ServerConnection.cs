using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>
/// One accepted connection of a <see cref="StreamServer"/>: the TLS handshake, the call of the user's callback,
/// and the close after it. It runs on the thread pool, never on the accept loop, so a slow handshake or
/// callback does not hold up accepting.
/// </summary>
/// <remarks>
/// The connection counts as live from accept until its socket is closed, which is asyncio's
/// <c>Server._attach</c>/<c>_detach</c> on the transport: a callback still running after its socket closed
/// does not keep <see cref="StreamServer.WaitClosedAsync"/> waiting.
/// </remarks>
internal sealed class ServerConnection : IThreadPoolWorkItem, ITransportClosedObserver
{
    private const int Open = 0;
    private const int CloseRequested = 1;
    private const int AbortRequested = 2;

    private static int s_lastHash;

    // Held by every idle connection, so kept small: what the server's connections share is one reference, and the
    // request/start handshake locks the connection itself (a thin lock in its header) rather than a Lock of 40 B.
    // The header can hold that lock only while it holds no identity hash code, so the server's set of connections
    // hashes them by _hash (see Comparer) instead.
    private readonly int _hash = Interlocked.Increment(ref s_lastHash);
    private readonly Socket _socket;
    private readonly EndPoint? _remoteEndPoint;
    private readonly ServerConnectionSetup _setup;
    private StreamWriter? _writer;
    private Task? _callbackTask;   // The running callback's task, for its continuation.
    private int _request;
    private int _hasEnded;

    internal ServerConnection(Socket socket, ServerConnectionSetup setup)
    {
        _socket = socket;
        _setup = setup;
        _remoteEndPoint = TryGetRemoteEndPoint(socket);
    }

    /// <summary>Gets the comparer for sets of connections: by reference, hashed without the object header's hash code.</summary>
    internal static IEqualityComparer<ServerConnection> Comparer { get; } = new IdentityComparer();

    /// <summary>Gets when the connection was accepted, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp (for its duration metric).</summary>
    internal long AcceptedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Gets or sets whether the active-connections counter counted this connection, so that its end is counted alike.</summary>
    internal bool CountedActive { get; set; }

    /// <summary>Gets the peer's address, read once at accept (the socket may be closed when it is logged).</summary>
    internal EndPoint? RemoteEndPoint => _remoteEndPoint;

    /// <summary>Runs the connection; called by the thread pool.</summary>
    void IThreadPoolWorkItem.Execute() => _ = RunAsync(CancellationToken.None);

    /// <summary>Closes the connection gracefully: queued bytes are sent, then FIN (close_notify over TLS).</summary>
    internal void Close() => Request(CloseRequested);

    /// <summary>Resets the connection: queued bytes are dropped, RST is sent (linger 0).</summary>
    internal void Abort() => Request(AbortRequested);

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var started = await TryStartAsync(cancellationToken).ConfigureAwait(false);
        if (started is not { } pair)
        {
            End();
            return;
        }

        var (reader, writer) = pair;
        Task callback;
        try
        {
            callback = _setup.Callback(reader, writer);
        }
#pragma warning disable CA1031 // A failing callback must not take the server down; it is logged and its connection closed.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            callback = Task.FromException(ex);
        }

        // Not awaited here: an async method would keep its state machine (and with it this method's frame) for the
        // callback's whole life, which for an idle connection is most of what it holds. The task keeps the
        // continuation instead, one delegate.
        _callbackTask = callback;
        if (callback.IsCompleted)
        {
            OnCallbackEnded();
        }
        else
        {
            callback.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnCallbackEnded);
        }
    }

    /// <summary>Logs a failed callback and closes the connection once the callback's task has ended.</summary>
    private void OnCallbackEnded()
    {
        Task callback = _callbackTask!;
        _callbackTask = null;
        try
        {
            // The task has completed: this only rethrows its exception, as awaiting it would.
            callback.ConfigureAwait(false).GetAwaiter().GetResult();
        }
#pragma warning disable CA1031 // A failing callback must not take the server down; it is logged and its connection closed.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _setup.Logger.CallbackFailed(_remoteEndPoint, ex);
        }

        // asyncio closes the transport when the callback fails; a callback that returns without closing is
        // done with the connection too, so it is closed the same way: queued bytes are sent first.
        _writer!.Close();
    }

    private async Task<(StreamReader Reader, StreamWriter Writer)?> TryStartAsync(CancellationToken cancellationToken)
    {
        SslStream? ssl = null;
        int request;
        try
        {
            if (_setup.Ssl is { } options)
            {
                ssl = await Connection.AuthenticateAsServerAsync(_socket, options, _setup.Settings, cancellationToken).ConfigureAwait(false);
            }

            lock (this)
            {
                request = _request;
                if (request == Open)
                {
                    var started = Connection.Start(_socket, ssl, _setup.Settings, this);
                    _writer = started.Writer;
                    return started;
                }
            }

            // CloseClients or AbortClients came during the handshake; the connection never reaches the callback.
        }
#pragma warning disable CA1031 // Whatever a peer does before the callback runs closes that connection only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (_setup.Ssl is not null && ssl is null)
            {
                _setup.Logger.TlsHandshakeFailed(_remoteEndPoint, ex);
            }
            else
            {
                _setup.Logger.ConnectionStartFailed(_remoteEndPoint, ex);
            }

            request = Volatile.Read(ref _request);
        }

        ssl?.Dispose();
        DisposeSocket(request);
        return null;
    }

    private void Request(int request)
    {
        StreamWriter? writer;
        lock (this)
        {
            if (_request == AbortRequested || (_request == CloseRequested && request == CloseRequested))
            {
                return;
            }

            _request = request;
            writer = _writer;
        }

        if (writer is null)
        {
            // Still in the TLS handshake: closing the socket ends it, and RunAsync sees the request.
            DisposeSocket(request);
        }
        else if (request == AbortRequested)
        {
            writer.Abort();
        }
        else
        {
            writer.Close();
        }
    }

    private void DisposeSocket(int request)
    {
        if (request == AbortRequested)
        {
            try
            {
                _socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The socket is already closed or reset; there is nothing left to abort.
            }
        }

        _socket.Dispose();
    }

    /// <summary>Ends the connection once its transport has closed.</summary>
    void ITransportClosedObserver.OnTransportClosed() => End();

    private void End()
    {
        if (Interlocked.Exchange(ref _hasEnded, 1) == 0)
        {
            _setup.Ended(this);
        }
    }

    private static EndPoint? TryGetRemoteEndPoint(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The peer may already be gone; the address is only used in log messages.
            return null;
        }
    }

    private sealed class IdentityComparer : IEqualityComparer<ServerConnection>
    {
        public bool Equals(ServerConnection? x, ServerConnection? y) => ReferenceEquals(x, y);

        public int GetHashCode(ServerConnection obj) => obj._hash;
    }
}
