using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;

namespace AsyncStreams.Internal;

/// <summary>
/// Turns connected sockets into reader/writer pairs and runs TLS handshakes; the entry point the client
/// (<see cref="Streams"/>) and the server share.
/// </summary>
internal static class Connection
{
    // The authentication options each handshake used, so that GetExtraInfo("sslcontext") can return them
    // for streams handed to Start without them. Weak keys: an entry lives as long as its stream.
    private static readonly ConditionalWeakTable<SslStream, object> s_sslOptions = [];

    /// <summary>
    /// Wraps a connected socket (and its authenticated <see cref="SslStream"/>, when TLS) into a reader/writer
    /// pair and starts the receive loop. The socket (and stream) are owned from here on.
    /// </summary>
    /// <param name="socket">The connected socket.</param>
    /// <param name="ssl">The authenticated TLS stream over it, or null.</param>
    /// <param name="settings">The connection's settings.</param>
    /// <param name="closed">Called once the transport has closed (as <see cref="StreamWriter.WaitClosedAsync"/> completes), or null.</param>
    internal static (StreamReader Reader, StreamWriter Writer) Start(
        Socket socket, SslStream? ssl, TransportSettings settings, ITransportClosedObserver? closed = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(settings);
        object? sslOptions = null;
        if (ssl is not null)
        {
            s_sslOptions.TryGetValue(ssl, out sslOptions);
        }

        var reader = new StreamReader(settings.Limit);
        var transport = new SocketTransport(socket, ssl, sslOptions, reader, settings, closed);
        var writer = new StreamWriter(transport);
        transport.Start();
        settings.IdleSweeper?.Register(transport);
        return (reader, writer);
    }

    /// <summary>
    /// Runs the server side of a TLS handshake over a connected socket, bounded by
    /// <see cref="TransportSettings.SslHandshakeTimeout"/>. The returned stream owns a <see cref="NetworkStream"/>
    /// over the socket; on failure the socket is closed.
    /// </summary>
    /// <exception cref="TimeoutException">The handshake outlasted the timeout.</exception>
    /// <exception cref="AuthenticationException">The handshake failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    internal static Task<SslStream> AuthenticateAsServerAsync(
        Socket socket, SslServerAuthenticationOptions options, TransportSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return AuthenticateAsync(socket, options, settings, cancellationToken);
    }

    /// <summary>Runs the client side of a TLS handshake over a connected socket; see <see cref="AuthenticateAsServerAsync"/>.</summary>
    /// <exception cref="TimeoutException">The handshake outlasted the timeout.</exception>
    /// <exception cref="AuthenticationException">The handshake failed (for example, the certificate was not trusted).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    internal static Task<SslStream> AuthenticateAsClientAsync(
        Socket socket, SslClientAuthenticationOptions options, TransportSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return AuthenticateAsync(socket, options, settings, cancellationToken);
    }

    private static async Task<SslStream> AuthenticateAsync(
        Socket socket, object options, TransportSettings settings, CancellationToken cancellationToken)
    {
        // NetworkStream needs a blocking socket; SslStream only uses its asynchronous methods.
        socket.Blocking = true;
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await HandshakeAsync(ssl, options, settings, socket.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        s_sslOptions.AddOrUpdate(ssl, options);
        return ssl;
    }

    /// <summary>
    /// Runs a handshake on <paramref name="ssl"/> bounded by the handshake timeout, mapping the outcomes to the
    /// contract: a timeout is a <see cref="TimeoutException"/>, any other failure an <see cref="AuthenticationException"/>.
    /// The handshake is traced and measured (see <see cref="Telemetry"/>).
    /// </summary>
    internal static async Task HandshakeAsync(
        SslStream ssl, object options, TransportSettings settings, System.Net.EndPoint? remote, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.StartTlsHandshake(options, remote);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await HandshakeCoreAsync(ssl, options, settings, remote, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Telemetry.TlsHandshakeFailed(activity, started, ex, options, remote, settings.Metrics))
        {
            throw;
        }

        Telemetry.TlsHandshakeSucceeded(activity, started, ssl, options, remote, settings.Metrics);
    }

    private static async Task HandshakeCoreAsync(
        SslStream ssl, object options, TransportSettings settings, System.Net.EndPoint? remote, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.SslHandshakeTimeout);
        try
        {
            Task handshake = options is SslServerAuthenticationOptions server
                ? ssl.AuthenticateAsServerAsync(server, timeout.Token)
                : ssl.AuthenticateAsClientAsync((SslClientAuthenticationOptions)options, timeout.Token);
            await handshake.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not AuthenticationException && timeout.IsCancellationRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Log.SslHandshakeTimedOut(settings.Logger, remote, settings.SslHandshakeTimeout);
            throw new TimeoutException(
                $"The TLS handshake did not finish within {settings.SslHandshakeTimeout.TotalSeconds:0.###} s.", ex);
        }
        catch (AuthenticationException ex)
        {
            Log.SslHandshakeFailed(settings.Logger, remote, ex);
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // A peer that closes or resets the connection mid-handshake fails the handshake.
            Log.SslHandshakeFailed(settings.Logger, remote, ex);
            throw new AuthenticationException("The TLS handshake failed: " + ex.Message, ex);
        }
    }
}
