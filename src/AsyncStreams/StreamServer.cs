namespace AsyncStreams;

/// <summary>A server.</summary>
public sealed class StreamServer
{
    /// <summary>Starts a server.</summary>
    /// <param name="callback">The connection callback.</param>
    /// <param name="host">The host.</param>
    /// <param name="port">The port.</param>
    /// <param name="options">The options.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The server.</returns>
    public static Task<StreamServer> StartAsync(
        Func<StreamReader, StreamWriter, Task> callback, string? host, int port,
        StreamServerOptions? options = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Starts a Unix server.</summary>
    /// <param name="callback">The connection callback.</param>
    /// <param name="path">The path.</param>
    /// <param name="options">The options.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns>The server.</returns>
    public static Task<StreamServer> StartUnixAsync(
        Func<StreamReader, StreamWriter, Task> callback, string path,
        StreamServerOptions? options = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
