using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using AsyncStreams.Internal;

namespace AsyncStreams;

/// <summary>Opens client connections and returns their reader and writer.</summary>
/// <remarks>asyncio equivalent: <c>asyncio.open_connection</c> and <c>asyncio.open_unix_connection</c>.</remarks>
public static class Streams
{
    /// <summary>The default reader buffer limit in bytes: 64 KiB.</summary>
    /// <remarks>asyncio equivalent: <c>asyncio.streams._DEFAULT_LIMIT</c> (2**16).</remarks>
    public const int DefaultLimit = 65536;

    private static readonly ConnectionOptions DefaultOptions = new();

    /// <summary>Opens a TCP connection to <paramref name="host"/>, with TLS when <paramref name="ssl"/> is <see langword="true"/>.</summary>
    /// <param name="host">The host name or address. A name is resolved and its addresses are tried as RFC 8305 describes (see <see cref="ConnectionOptions.HappyEyeballsDelay"/>).</param>
    /// <param name="port">The port, 1 to 65535.</param>
    /// <param name="ssl">Whether to use TLS, validating the certificate chain with the system's trust and the name against <paramref name="host"/>. Default <see langword="false"/>.</param>
    /// <param name="options">The connection options. Default <see langword="null"/> (the defaults of <see cref="ConnectionOptions"/>).</param>
    /// <param name="cancellationToken">Cancels the connection attempt. Default: none.</param>
    /// <returns>The reader and writer of the connection.</returns>
    /// <remarks>asyncio equivalent: <c>await asyncio.open_connection(host, port, ssl=...)</c>.</remarks>
    /// <exception cref="ArgumentException"><paramref name="host"/> is <see langword="null"/> or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="SocketException">The host could not be resolved or no address accepted the connection (for example <see cref="SocketError.ConnectionRefused"/>).</exception>
    /// <exception cref="AuthenticationException">The TLS handshake failed, for example because the certificate was not trusted or did not match <paramref name="host"/>.</exception>
    /// <exception cref="TimeoutException">The TLS handshake outlasted <see cref="ConnectionOptions.SslHandshakeTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenConnectionAsync(
        string host, int port, bool ssl = false,
        ConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateHostAndPort(host, port);
        TransportSettings settings = TransportSettings.From(options);
        SslClientAuthenticationOptions? sslOptions = ssl ? new SslClientAuthenticationOptions { TargetHost = host } : null;
        return OpenTcpAsync(host, port, sslOptions, options, settings, cancellationToken);
    }

    /// <summary>Opens a TLS connection to <paramref name="host"/> with the given client authentication options.</summary>
    /// <param name="host">The host name or address; see <see cref="OpenConnectionAsync(string, int, bool, ConnectionOptions?, CancellationToken)"/>.</param>
    /// <param name="port">The port, 1 to 65535.</param>
    /// <param name="ssl">The TLS options. When <see cref="SslClientAuthenticationOptions.TargetHost"/> is not set, <paramref name="host"/> is used (the options object is not modified).</param>
    /// <param name="options">The connection options. Default <see langword="null"/> (the defaults of <see cref="ConnectionOptions"/>).</param>
    /// <param name="cancellationToken">Cancels the connection attempt. Default: none.</param>
    /// <returns>The reader and writer of the connection.</returns>
    /// <remarks>asyncio equivalent: <c>await asyncio.open_connection(host, port, ssl=context, server_hostname=...)</c>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ssl"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="host"/> is <see langword="null"/> or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="SocketException">The host could not be resolved or no address accepted the connection.</exception>
    /// <exception cref="AuthenticationException">The TLS handshake failed.</exception>
    /// <exception cref="TimeoutException">The TLS handshake outlasted <see cref="ConnectionOptions.SslHandshakeTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenConnectionAsync(
        string host, int port, SslClientAuthenticationOptions ssl,
        ConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ssl);
        ValidateHostAndPort(host, port);
        TransportSettings settings = TransportSettings.From(options);
        return OpenTcpAsync(host, port, WithTargetHost(ssl, host), options, settings, cancellationToken);
    }

    /// <summary>Opens a connection to the Unix domain socket at <paramref name="path"/>.</summary>
    /// <param name="path">The socket's path.</param>
    /// <param name="options">The connection options; the TCP-only ones are ignored. Default <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the connection attempt. Default: none.</param>
    /// <returns>The reader and writer of the connection.</returns>
    /// <remarks>asyncio equivalent: <c>await asyncio.open_unix_connection(path)</c>.</remarks>
    /// <exception cref="ArgumentException"><paramref name="path"/> is <see langword="null"/> or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="SocketException">Nothing listens at <paramref name="path"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenUnixConnectionAsync(
        string path, ConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        TransportSettings settings = TransportSettings.From(options);
        return Telemetry.TraceConnectAsync(path, null, unix: true, tls: false, () => OpenUnixAsync(path, settings, cancellationToken));
    }

    private static async Task<(StreamReader Reader, StreamWriter Writer)> OpenUnixAsync(
        string path, TransportSettings settings, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return Connection.Start(socket, null, settings);
    }

    private static Task<(StreamReader Reader, StreamWriter Writer)> OpenTcpAsync(
        string host, int port, SslClientAuthenticationOptions? ssl, ConnectionOptions? options,
        TransportSettings settings, CancellationToken cancellationToken) =>
        Telemetry.TraceConnectAsync(
            host, port, unix: false, tls: ssl is not null,
            () => OpenTcpCoreAsync(host, port, ssl, options, settings, cancellationToken));

    private static async Task<(StreamReader Reader, StreamWriter Writer)> OpenTcpCoreAsync(
        string host, int port, SslClientAuthenticationOptions? ssl, ConnectionOptions? options,
        TransportSettings settings, CancellationToken cancellationToken)
    {
        IPEndPoint[] endPoints = await ResolveAsync(host, port, options?.LocalEndPoint, cancellationToken).ConfigureAwait(false);
        Socket socket = await HappyEyeballs.ConnectAsync(
            endPoints, options?.LocalEndPoint, (options ?? DefaultOptions).HappyEyeballsDelay,
            settings.Logger, cancellationToken).ConfigureAwait(false);

        SslStream? sslStream = null;
        if (ssl is not null)
        {
            // On failure the handshake helper disposes the stream, which owns the socket.
            sslStream = await Connection.AuthenticateAsClientAsync(socket, ssl, settings, cancellationToken).ConfigureAwait(false);
        }

        return Connection.Start(socket, sslStream, settings);
    }

    private static async Task<IPEndPoint[]> ResolveAsync(string host, int port, EndPoint? localEndPoint, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);

        // With a local end point only addresses of its family can be reached (asyncio matches local_addr by family too).
        if (localEndPoint is not null)
        {
            addresses = Array.FindAll(addresses, a => a.AddressFamily == localEndPoint.AddressFamily);
            if (addresses.Length == 0)
            {
                throw new SocketException((int)SocketError.AddressFamilyNotSupported);
            }
        }

        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        return Array.ConvertAll(addresses, a => new IPEndPoint(a, port));
    }

    private static void ValidateHostAndPort(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (port is < IPEndPoint.MinPort + 1 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "The port must be between 1 and 65535.");
        }
    }

    /// <summary>Returns <paramref name="ssl"/> if it names a target host, else a copy naming <paramref name="host"/>, so the caller's object is never changed.</summary>
    private static SslClientAuthenticationOptions WithTargetHost(SslClientAuthenticationOptions ssl, string host)
    {
        if (!string.IsNullOrEmpty(ssl.TargetHost))
        {
            return ssl;
        }

        var copy = new SslClientAuthenticationOptions
        {
            AllowRenegotiation = ssl.AllowRenegotiation,
            AllowTlsResume = ssl.AllowTlsResume,
            ApplicationProtocols = ssl.ApplicationProtocols,
            CertificateChainPolicy = ssl.CertificateChainPolicy,
            CertificateRevocationCheckMode = ssl.CertificateRevocationCheckMode,
            CipherSuitesPolicy = ssl.CipherSuitesPolicy,
            ClientCertificateContext = ssl.ClientCertificateContext,
            ClientCertificates = ssl.ClientCertificates,
            EnabledSslProtocols = ssl.EnabledSslProtocols,
            EncryptionPolicy = ssl.EncryptionPolicy,
            LocalCertificateSelectionCallback = ssl.LocalCertificateSelectionCallback,
            RemoteCertificateValidationCallback = ssl.RemoteCertificateValidationCallback,
            TargetHost = host,
        };
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            copy.AllowRsaPkcs1Padding = ssl.AllowRsaPkcs1Padding;
            copy.AllowRsaPssPadding = ssl.AllowRsaPssPadding;
        }

        return copy;
    }
}
