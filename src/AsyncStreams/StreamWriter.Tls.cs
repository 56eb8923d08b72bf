using System.Net.Security;
using System.Security.Authentication;

namespace AsyncStreams;

/// <summary>TLS members of the writer.</summary>
public sealed partial class StreamWriter
{
    /// <summary>Gets the TLS stream of the connection, or <see langword="null"/> on a plain connection.</summary>
    /// <remarks>asyncio equivalent: <c>get_extra_info("ssl_object")</c>. Use it to inspect the session; reading or writing it directly would corrupt the connection.</remarks>
    public SslStream? SslStream => _transport.SslStream;

    /// <summary>Upgrades this plain connection to TLS as the client.</summary>
    /// <param name="options">The client authentication options; <see cref="SslClientAuthenticationOptions.TargetHost"/> names the host to validate.</param>
    /// <param name="cancellationToken">Cancels the upgrade (the connection is then closed). Default: none.</param>
    /// <returns>A task that completes when the handshake is done; reads and writes then go over TLS.</returns>
    /// <remarks>
    /// asyncio equivalent: <c>await StreamWriter.start_tls(sslcontext, server_hostname=...)</c>. Bytes queued before
    /// the call are sent in plain first; bytes the reader already holds stay in it, in plain. Do not write until
    /// the task completes. The handshake is bounded by the SslHandshakeTimeout option; on any failure the connection
    /// is closed.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The connection already uses TLS, is closing, or is being upgraded.</exception>
    /// <exception cref="AuthenticationException">The handshake failed (for example, the certificate was not trusted).</exception>
    /// <exception cref="TimeoutException">The handshake outlasted the SslHandshakeTimeout option.</exception>
    /// <exception cref="IOException">The connection was closed before the handshake could start.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public Task StartTlsAsync(SslClientAuthenticationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _transport.StartTlsAsync(options, cancellationToken);
    }

    /// <summary>Upgrades this plain connection to TLS as the server.</summary>
    /// <param name="options">The server authentication options, with the server certificate.</param>
    /// <param name="cancellationToken">Cancels the upgrade (the connection is then closed). Default: none.</param>
    /// <returns>A task that completes when the handshake is done; reads and writes then go over TLS.</returns>
    /// <remarks>
    /// asyncio equivalent: <c>await StreamWriter.start_tls(sslcontext)</c> on a server connection. Call it right after
    /// writing the last plain reply (for example the reply to STARTTLS), before the client can start its handshake;
    /// bytes the reader already holds stay in it, in plain.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The connection already uses TLS, is closing, or is being upgraded.</exception>
    /// <exception cref="AuthenticationException">The handshake failed.</exception>
    /// <exception cref="TimeoutException">The handshake outlasted the SslHandshakeTimeout option.</exception>
    /// <exception cref="IOException">The connection was closed before the handshake could start.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public Task StartTlsAsync(SslServerAuthenticationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _transport.StartTlsAsync(options, cancellationToken);
    }
}
