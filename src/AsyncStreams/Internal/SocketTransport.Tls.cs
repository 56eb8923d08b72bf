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

            // The TLS stream does the I/O from here on. NetworkStream needs a blocking socket; SslStream only uses
            // its asynchronous methods.
            _directIo = false;
            _socket.Blocking = true;
            Stream inner = new NetworkStream(_socket, ownsSocket: false);
            if (await TakeEarlyHandshakeBytesAsync(cancellationToken).ConfigureAwait(false) is byte[] early)
            {
                inner = new PrefixedStream(early, inner);
            }

            ssl = new SslStream(inner, leaveInnerStreamOpen: false);
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

    /// <summary>
    /// Takes the peer's first TLS handshake bytes out of the reader when they reached it before the upgrade.
    /// </summary>
    /// <remarks>
    /// A server writes its plain reply ("OK, start TLS") and then calls StartTlsAsync; unlike asyncio's single
    /// thread, the receive loop runs concurrently and may have received the client's ClientHello in between.
    /// Such bytes are recognised by the TLS record header they start with (content type 22, version 3.x) and are
    /// given to the handshake. Anything else the reader holds stays there, in plain, as asyncio keeps it.
    /// </remarks>
    private async ValueTask<byte[]?> TakeEarlyHandshakeBytesAsync(CancellationToken cancellationToken)
    {
        long buffered = _reader.BufferedBytes;
        if (buffered < TlsRecordHeaderLength || buffered > int.MaxValue)
        {
            return null;
        }

        byte[] bytes;
        try
        {
            // The bytes are buffered, so this completes at once; it throws if the application has a read pending.
            bytes = await _reader.ReadExactlyAsync((int)buffered, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            return null;
        }

        if (bytes[0] == TlsHandshakeContentType && bytes[1] == 3 && bytes[2] <= 4)
        {
            return bytes;
        }

        // Not a handshake: the bytes go back, in order, since the buffer is now empty and the loop is stopped.
        _reader.FeedData(bytes);
        return null;
    }

    private const int TlsRecordHeaderLength = 5;
    private const byte TlsHandshakeContentType = 22;
}
