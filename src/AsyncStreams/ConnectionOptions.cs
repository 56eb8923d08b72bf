using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace AsyncStreams;

/// <summary>
/// Options for a client connection opened by <see cref="Streams.OpenConnectionAsync(string, int, bool, ConnectionOptions?, CancellationToken)"/>
/// or <see cref="Streams.OpenUnixConnectionAsync(string, ConnectionOptions?, CancellationToken)"/>.
/// </summary>
/// <remarks>asyncio equivalent: the keyword arguments of <c>asyncio.open_connection</c>.</remarks>
public sealed class ConnectionOptions
{
    /// <summary>Gets the reader's buffer limit in bytes. Default <see cref="Streams.DefaultLimit"/> (64 KiB).</summary>
    /// <remarks>asyncio equivalent: <c>limit</c>.</remarks>
    public int Limit { get; init; } = Streams.DefaultLimit;

    /// <summary>Gets the local end point to bind before connecting. Default <see langword="null"/> (any).</summary>
    /// <remarks>asyncio equivalent: <c>local_addr</c>.</remarks>
    public EndPoint? LocalEndPoint { get; init; }

    /// <summary>Gets the delay before the next connection attempt starts (RFC 8305 Happy Eyeballs). Default 250 ms; <see langword="null"/> tries addresses one after another.</summary>
    /// <remarks>asyncio equivalent: <c>happy_eyeballs_delay</c>, with <c>interleave=1</c>.</remarks>
    public TimeSpan? HappyEyeballsDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Gets how long the TLS handshake may take. Default 60 seconds.</summary>
    /// <remarks>asyncio equivalent: <c>ssl_handshake_timeout</c>.</remarks>
    public TimeSpan SslHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets how long closing a TLS connection waits for the close_notify exchange. Default 30 seconds.</summary>
    /// <remarks>asyncio equivalent: <c>ssl_shutdown_timeout</c>.</remarks>
    public TimeSpan SslShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the queued byte count above which <see cref="StreamWriter.DrainAsync(CancellationToken)"/> waits. Default 64 KiB.</summary>
    /// <remarks>asyncio equivalent: the high argument of <c>transport.set_write_buffer_limits</c>.</remarks>
    public int WriteHighWaterMark { get; init; } = 64 * 1024;

    /// <summary>Gets the queued byte count a waiting <see cref="StreamWriter.DrainAsync(CancellationToken)"/> waits for. Default 16 KiB.</summary>
    /// <remarks>asyncio equivalent: the low argument of <c>transport.set_write_buffer_limits</c>.</remarks>
    public int WriteLowWaterMark { get; init; } = 16 * 1024;

    /// <summary>Gets whether TCP_NODELAY is set on the socket. Default <see langword="true"/>.</summary>
    /// <remarks>asyncio sets TCP_NODELAY on every TCP transport as well.</remarks>
    public bool NoDelay { get; init; } = true;

    /// <summary>Gets the logger factory for the connection's diagnostics. Default <see langword="null"/> (no logging).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Gets the factory of the "AsyncStreams" meter that the connection reports bytes and TLS handshakes to. Default <see langword="null"/> (a meter shared by the process).</summary>
    /// <remarks>
    /// asyncio has no equivalent. Pass the <see cref="IMeterFactory"/> of a dependency injection container so that the
    /// instruments belong to it; the instruments are listed in docs/observability.md.
    /// </remarks>
    public IMeterFactory? MeterFactory { get; init; }
}
