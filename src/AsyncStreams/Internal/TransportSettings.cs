using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncStreams.Internal;

/// <summary>
/// The per-connection settings of the transport, taken once from the public option types so that
/// the transport never reads a user's options object again (and a server shares one instance across
/// all of its connections).
/// </summary>
internal sealed class TransportSettings
{
    /// <summary>The logger category of the transport's messages.</summary>
    internal const string LoggerCategory = "AsyncStreams.Connection";

    private TransportSettings(
        int limit, int writeHighWaterMark, int writeLowWaterMark, bool noDelay,
        TimeSpan sslHandshakeTimeout, TimeSpan sslShutdownTimeout, ILoggerFactory? loggerFactory)
    {
        if (limit <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "The Limit option must be positive.");
        }

        // asyncio's set_write_buffer_limits requires high >= low >= 0.
        if (writeLowWaterMark < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(writeLowWaterMark), writeLowWaterMark, "The WriteLowWaterMark option must not be negative.");
        }

        if (writeHighWaterMark < writeLowWaterMark)
        {
            throw new ArgumentOutOfRangeException(nameof(writeHighWaterMark), writeHighWaterMark, "The WriteHighWaterMark option must be at least the WriteLowWaterMark option.");
        }

        ValidateTimeout(sslHandshakeTimeout, nameof(sslHandshakeTimeout), "SslHandshakeTimeout");
        ValidateTimeout(sslShutdownTimeout, nameof(sslShutdownTimeout), "SslShutdownTimeout");

        Limit = limit;
        WriteHighWaterMark = writeHighWaterMark;
        WriteLowWaterMark = writeLowWaterMark;
        NoDelay = noDelay;
        SslHandshakeTimeout = sslHandshakeTimeout;
        SslShutdownTimeout = sslShutdownTimeout;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Logger = LoggerFactory.CreateLogger(LoggerCategory);
    }

    /// <summary>Gets the settings of a connection opened with default options.</summary>
    internal static TransportSettings Default { get; } = From((ConnectionOptions?)null);

    /// <summary>Gets the reader's buffer limit.</summary>
    internal int Limit { get; }

    /// <summary>Gets the queued byte count above which a drain waits.</summary>
    internal int WriteHighWaterMark { get; }

    /// <summary>Gets the queued byte count a waiting drain waits for.</summary>
    internal int WriteLowWaterMark { get; }

    /// <summary>Gets whether TCP_NODELAY is set on TCP sockets.</summary>
    internal bool NoDelay { get; }

    /// <summary>Gets how long a TLS handshake may take.</summary>
    internal TimeSpan SslHandshakeTimeout { get; }

    /// <summary>Gets how long a TLS close waits for the close_notify exchange.</summary>
    internal TimeSpan SslShutdownTimeout { get; }

    /// <summary>Gets the logger factory (never null).</summary>
    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>Gets the transport's logger, created once so that connections do not look it up.</summary>
    internal ILogger Logger { get; }

    /// <summary>Gets the instruments the connections report to.</summary>
    internal Metrics Metrics { get; private init; } = Metrics.For(null);

    /// <summary>Gets whether these are the settings of a server's connections.</summary>
    internal bool IsServer { get; private init; }

    /// <summary>Gets the sweeper that closes idle connections, or null when the server has no idle timeout.</summary>
    internal IdleTimeoutSweeper? IdleSweeper { get; private init; }

    /// <summary>Takes the settings of a client connection.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit, watermark or timeout is out of range.</exception>
    internal static TransportSettings From(ConnectionOptions? options)
    {
        options ??= new ConnectionOptions();
        return new TransportSettings(
            options.Limit, options.WriteHighWaterMark, options.WriteLowWaterMark, options.NoDelay,
            options.SslHandshakeTimeout, options.SslShutdownTimeout, options.LoggerFactory)
        {
            Metrics = Metrics.For(options.MeterFactory),
        };
    }

    /// <summary>Takes the settings of a server's connections.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit, watermark or timeout is out of range.</exception>
    internal static TransportSettings From(StreamServerOptions? options)
    {
        options ??= new StreamServerOptions();
        return new TransportSettings(
            options.Limit, options.WriteHighWaterMark, options.WriteLowWaterMark, options.NoDelay,
            options.SslHandshakeTimeout, options.SslShutdownTimeout, options.LoggerFactory)
        {
            Metrics = Metrics.For(options.MeterFactory),
            IsServer = true,
            IdleSweeper = IdleTimeoutSweeper.Create(options),
        };
    }

    private static void ValidateTimeout(TimeSpan value, string name, string option)
    {
        if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, $"The {option} option must be positive or Timeout.InfiniteTimeSpan.");
        }
    }
}
