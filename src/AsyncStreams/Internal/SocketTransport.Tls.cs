using System.Net.Security;
using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>Upgrading a live plain connection to TLS (asyncio's <c>StreamWriter.start_tls</c>).</summary>
internal sealed partial class SocketTransport
{
    /// <summary>
    /// Upgrades the connection: sends what is queued, stops the plain receive loop at a byte boundary (bytes the
    /// reader already holds stay there), runs the handshake over the same socket, then runs the loops over TLS.
    /// </summary>
    /// <param name="options">A <see cref="SslClientAuthenticationOptions"/> or <see cref="SslServerAuthenticationOptions"/>.</param>
    /// <param name="cancellationToken">Cancels the upgrade; the connection is then aborted, as asyncio closes the transport.</param>
    internal async Task StartTlsAsync(object options, CancellationToken cancellationToken)
    {
        Task idle;
        lock (_lock)
        {
            if (_ssl is not null)
            {
                throw new InvalidOperationException("The connection already uses TLS.");
            }

            if (_upgrading)
            {
                throw new InvalidOperationException("A TLS upgrade is already in progress.");
            }

            if (_closing || _lost || _eofRequested)
            {
                throw new InvalidOperationException("The connection is closing or half-closed.");
            }

            _upgrading = true;
            idle = _sending
                ? (_idleWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task
                : Task.CompletedTask;
        }

        try
        {
            // The handshake writes to the socket directly, so the plain bytes queued before it must be out first.
            await idle.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_lock)
            {
                _upgrading = false;
            }

            throw;
        }

        SslStream ssl;
        try
        {
            _stopReceiving = true;
            CancelReceiveWait();
            await ReceiveTask.ConfigureAwait(false);
            lock (_lock)
            {
                if (_lost || _closing)
                {
                    throw new IOException("The connection was closed before the TLS upgrade.", _lossException);
                }
            }

            if (_peerEof)
            {
                throw new IOException("The peer closed its side of the connection before the TLS upgrade.");
            }

            // NetworkStream needs a blocking socket; SslStream only uses its asynchronous methods.
            _socket.Blocking = true;
            ssl = new SslStream(new NetworkStream(_socket, ownsSocket: false), leaveInnerStreamOpen: false);
            Volatile.Write(ref _sslOptions, options);
            await Connection.HandshakeAsync(ssl, options, _settings, RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // asyncio closes the transport when start_tls fails or is cancelled.
            Abort();
            lock (_lock)
            {
                _upgrading = false;
            }

            throw;
        }

        Log.TlsStarted(_logger, RemoteEndPoint, ssl.SslProtocol, ssl.NegotiatedCipherSuite);
        lock (_lock)
        {
            _ssl = ssl;
            _upgrading = false;
            SelectByteTags();
            if (_lost)
            {
                ssl.Dispose();
                throw new IOException("The connection was closed during the TLS upgrade.", _lossException);
            }
        }

        _stopReceiving = false;
        var receiveCts = new CancellationTokenSource();
        Volatile.Write(ref _receiveCts, receiveCts);
        Volatile.Write(ref _receiveTask, ReceiveTlsAsync(ssl, receiveCts.Token));
    }
}
