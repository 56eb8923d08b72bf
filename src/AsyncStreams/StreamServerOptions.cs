using System.Diagnostics.Metrics;
using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace AsyncStreams;

/// <summary>
/// Options for a server started by <see cref="StreamServer.StartAsync(Func{StreamReader, StreamWriter, Task}, string?, int, StreamServerOptions?, CancellationToken)"/>
/// or <see cref="StreamServer.StartUnixAsync(Func{StreamReader, StreamWriter, Task}, string, StreamServerOptions?, CancellationToken)"/>.
/// </summary>
/// <remarks>asyncio equivalent: the keyword arguments of <c>asyncio.start_server</c>.</remarks>
public sealed class StreamServerOptions
{
    /// <summary>Gets the buffer limit in bytes of each connection's reader. Default <see cref="Streams.DefaultLimit"/> (64 KiB).</summary>
    /// <remarks>asyncio equivalent: <c>limit</c>.</remarks>
    public int Limit { get; init; } = Streams.DefaultLimit;

    /// <summary>Gets the listen backlog. Default 100.</summary>
    /// <remarks>asyncio equivalent: <c>backlog</c>.</remarks>
    public int Backlog { get; init; } = 100;

    /// <summary>Gets whether SO_REUSEADDR is set on the listening sockets. Default <see langword="true"/>.</summary>
    /// <remarks>asyncio equivalent: <c>reuse_address</c>.</remarks>
    public bool ReuseAddress { get; init; } = true;

    /// <summary>Gets whether SO_REUSEPORT is set, so that several processes can listen on one port. Default <see langword="false"/>.</summary>
    /// <remarks>asyncio equivalent: <c>reuse_port</c>.</remarks>
    public bool ReusePort { get; init; }

    /// <summary>Gets the TLS options; when set, every connection is TLS. Default <see langword="null"/> (plain TCP).</summary>
    /// <remarks>asyncio equivalent: <c>ssl</c>.</remarks>
    public SslServerAuthenticationOptions? Ssl { get; init; }

    /// <summary>Gets how long each connection's TLS handshake may take. Default 60 seconds.</summary>
    /// <remarks>asyncio equivalent: <c>ssl_handshake_timeout</c>.</remarks>
    public TimeSpan SslHandshakeTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets how long closing a TLS connection waits for the close_notify exchange. Default 30 seconds.</summary>
    /// <remarks>asyncio equivalent: <c>ssl_shutdown_timeout</c>.</remarks>
    public TimeSpan SslShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets whether the server accepts connections as soon as it is started. Default <see langword="true"/>.</summary>
    /// <remarks>asyncio equivalent: <c>start_serving</c>.</remarks>
    public bool StartServing { get; init; } = true;

    /// <summary>Gets the most connections served at once; a connection over it is closed at once without calling the callback. Default <see langword="null"/> (unlimited).</summary>
    public int? MaxConnections { get; init; }

    /// <summary>Gets the queued byte count above which <see cref="StreamWriter.DrainAsync(CancellationToken)"/> waits. Default 64 KiB.</summary>
    /// <remarks>asyncio equivalent: the high argument of <c>transport.set_write_buffer_limits</c>.</remarks>
    public int WriteHighWaterMark { get; init; } = 64 * 1024;

    /// <summary>Gets the queued byte count a waiting <see cref="StreamWriter.DrainAsync(CancellationToken)"/> waits for. Default 16 KiB.</summary>
    /// <remarks>asyncio equivalent: the low argument of <c>transport.set_write_buffer_limits</c>.</remarks>
    public int WriteLowWaterMark { get; init; } = 16 * 1024;

    /// <summary>Gets whether TCP_NODELAY is set on accepted sockets. Default <see langword="true"/>.</summary>
    /// <remarks>asyncio sets TCP_NODELAY on every TCP transport as well.</remarks>
    public bool NoDelay { get; init; } = true;

    /// <summary>Gets the logger factory for the server's diagnostics. Default <see langword="null"/> (no logging).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Gets how long a connection may go without a byte received or sent before the server closes it. Default <see langword="null"/> (no limit).</summary>
    /// <remarks>
    /// asyncio has no equivalent: it leaves stalled peers to the application. A connection idle for this long is closed
    /// within a further quarter of the timeout (at most one second more): gracefully when nothing is queued for the
    /// peer, with a reset when queued bytes could not be sent. Its reader's pending and later reads throw an
    /// <see cref="IOException"/> whose inner exception is a <see cref="TimeoutException"/>. Time during which the
    /// connection stopped receiving because the application had not read its buffered bytes does not count.
    /// <see cref="Timeout.InfiniteTimeSpan"/> is the same as <see langword="null"/>.
    /// </remarks>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>Gets the factory of the "AsyncStreams" meter that the server reports connections, bytes and TLS handshakes to. Default <see langword="null"/> (a meter shared by the process).</summary>
    /// <remarks>
    /// asyncio has no equivalent. Pass the <see cref="IMeterFactory"/> of a dependency injection container so that the
    /// instruments belong to it; the instruments are listed in docs/observability.md.
    /// </remarks>
    public IMeterFactory? MeterFactory { get; init; }
}
