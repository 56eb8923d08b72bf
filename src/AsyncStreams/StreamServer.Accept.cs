using System.Net;
using System.Net.Sockets;
using AsyncStreams.Internal;

namespace AsyncStreams;

public sealed partial class StreamServer
{
    /// <summary>Closes every live connection gracefully: each sends what it has queued, then FIN (close_notify over TLS).</summary>
    /// <remarks>
    /// asyncio equivalent: <c>Server.close_clients()</c> (Python 3.13). A connection still in its TLS handshake is
    /// closed without reaching the callback. The server keeps listening unless <see cref="Close"/> was called.
    /// </remarks>
    public void CloseClients()
    {
        foreach (var connection in SnapshotConnections())
        {
            connection.Close();
        }
    }

    /// <summary>Resets every live connection: queued bytes are dropped and the peer sees a reset (SO_LINGER 0).</summary>
    /// <remarks>
    /// asyncio equivalent: <c>Server.abort_clients()</c> (Python 3.13). The server keeps listening unless
    /// <see cref="Close"/> was called.
    /// </remarks>
    public void AbortClients()
    {
        foreach (var connection in SnapshotConnections())
        {
            connection.Abort();
        }
    }

    private ServerConnection[] SnapshotConnections()
    {
        lock (_gate)
        {
            return [.. _connections];
        }
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        var endPoint = TryGetLocalEndPoint(listener);
        _logger.ServingStarted(endPoint);
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _hooks.Accept(listener, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Close cancels before it disposes the listener, so any failure from here on is the close itself.
                return;
            }
            catch (SocketException ex) when (IsGoneBeforeAccept(ex.SocketErrorCode))
            {
                // The peer reset the connection while it waited in the backlog; the next one may be fine.
                _logger.AcceptedConnectionGone(endPoint, ex.SocketErrorCode);
                continue;
            }
            catch (SocketException ex) when (IsOutOfResources(ex.SocketErrorCode))
            {
                // asyncio's behaviour on EMFILE/ENFILE/ENOBUFS/ENOMEM: log, stop accepting for a while (so that the
                // live connections can finish and free descriptors), then accept again.
                _logger.AcceptOutOfResources(endPoint, ex.SocketErrorCode, _hooks.AcceptRetryDelay, ex);
                if (!await BackOffAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }
#pragma warning disable CA1031 // One failed accept must never end the accept loop.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Unknown failures back off too, so that one that repeats cannot spin the loop.
                _logger.AcceptFailed(endPoint, _hooks.AcceptRetryDelay, ex);
                if (!await BackOffAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            Dispatch(accepted);
        }
    }

    private void Dispatch(Socket socket)
    {
        var connection = new ServerConnection(socket, _connectionSetup);
        var admitted = false;
        var overLimit = false;
        lock (_gate)
        {
            // A socket accepted in the same moment as the close is dropped: asyncio would not have read it.
            if (!_isClosed)
            {
                overLimit = _maxConnections is int max && _connections.Count >= max;
                admitted = !overLimit && _connections.Add(connection);
            }
        }

        if (!admitted)
        {
            if (overLimit)
            {
                _settings.Metrics.ConnectionRejected(_metricsTags);
                _logger.ConnectionOverLimit(connection.RemoteEndPoint, _maxConnections.GetValueOrDefault());
            }

            socket.Dispose();
            return;
        }

        _logger.ConnectionAccepted(connection.RemoteEndPoint);
        connection.CountedActive = _settings.Metrics.ConnectionOpened(_metricsTags);

        // The connection runs on the thread pool, never inline here, so its handshake and callback cannot hold up
        // the next accept.
        ThreadPool.UnsafeQueueUserWorkItem(connection, preferLocal: false);
    }

    private void OnConnectionEnded(ServerConnection connection)
    {
        bool lastAfterClose;
        lock (_gate)
        {
            _connections.Remove(connection);
            lastAfterClose = _isClosed && _connections.Count == 0;
        }

        _settings.Metrics.ConnectionClosed(connection.AcceptedAt, connection.CountedActive, _metricsTags);

        if (lastAfterClose)
        {
            _closed.TrySetResult();
        }
    }

    private async Task<bool> BackOffAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(_hooks.AcceptRetryDelay, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool IsGoneBeforeAccept(SocketError error) =>
        error is SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.Interrupted;

    private static bool IsOutOfResources(SocketError error) =>
        error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable;

    private static EndPoint? TryGetLocalEndPoint(Socket socket)
    {
        try
        {
            return socket.LocalEndPoint;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The server was closed before its accept loop started; the loop ends at its first accept.
            return null;
        }
    }
}
