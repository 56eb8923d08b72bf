using System.Net.Security;

namespace AsyncStreams;

/// <summary>Opens client connections and returns their reader and writer.</summary>
/// <remarks>asyncio equivalent: <c>asyncio.open_connection</c> and <c>asyncio.open_unix_connection</c>.</remarks>
public static class Streams
{
    /// <summary>The default reader buffer limit in bytes: 64 KiB.</summary>
    /// <remarks>asyncio equivalent: <c>asyncio.streams._DEFAULT_LIMIT</c> (2**16).</remarks>
    public const int DefaultLimit = 65536;

    /// <summary>Opens a TCP connection, with TLS when <paramref name="ssl"/> is true.</summary>
    /// <param name="host">The host name or address.</param>
    /// <param name="port">The port.</param>
    /// <param name="ssl">Whether to use TLS, validating the certificate against <paramref name="host"/>.</param>
    /// <param name="options">The connection options.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <returns>The reader and writer of the connection.</returns>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenConnectionAsync(
        string host, int port, bool ssl = false,
        ConnectionOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>Opens a TLS connection with the given client authentication options.</summary>
    /// <param name="host">The host name or address.</param>
    /// <param name="port">The port.</param>
    /// <param name="ssl">The TLS options.</param>
    /// <param name="options">The connection options.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <returns>The reader and writer of the connection.</returns>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenConnectionAsync(
        string host, int port, SslClientAuthenticationOptions ssl,
        ConnectionOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>Opens a Unix domain socket connection.</summary>
    /// <param name="path">The socket path.</param>
    /// <param name="options">The connection options.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <returns>The reader and writer of the connection.</returns>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenUnixConnectionAsync(
        string path, ConnectionOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();
}
