using System.Net;
using System.Net.Sockets;
using AsyncStreams.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AsyncStreams;

public sealed partial class StreamServer
{
    private static readonly StreamServerOptions DefaultOptions = new();

    /// <summary>Starts a TCP server (TLS when <see cref="StreamServerOptions.Ssl"/> is set) listening on <paramref name="host"/> and <paramref name="port"/>.</summary>
    /// <param name="callback">Called with the reader and writer of each connection; the connection is closed when the returned task ends.</param>
    /// <param name="host">
    /// Where to listen: <see langword="null"/> or <c>""</c> for every interface, IPv4 and IPv6 (one socket each);
    /// an address literal for that address; a name for every address it resolves to (<c>"localhost"</c> is always
    /// both 127.0.0.1 and ::1, where the host has IPv6).
    /// </param>
    /// <param name="port">The port, or 0 for one free port shared by every listening socket (read it from <see cref="EndPoints"/>).</param>
    /// <param name="options">The server options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the name resolution.</param>
    /// <returns>The server, listening, and accepting unless <see cref="StreamServerOptions.StartServing"/> is false.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not in 0..65535, or an option is out of range.</exception>
    /// <exception cref="SocketException">The name does not resolve, or a bind failed (for example <see cref="SocketError.AddressAlreadyInUse"/>).</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="StreamServerOptions.ReusePort"/> is set on an operating system without SO_REUSEPORT.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>asyncio equivalent: <c>asyncio.start_server(client_connected_cb, host, port, ...)</c>.</remarks>
    public static Task<StreamServer> StartAsync(
        Func<StreamReader, StreamWriter, Task> callback, string? host, int port,
        StreamServerOptions? options = null, CancellationToken cancellationToken = default)
        => StartAsync(callback, host, port, options, ServerHooks.Default, cancellationToken);

    /// <summary>Starts a server on a socket that is already bound (and possibly listening), such as one passed by socket activation.</summary>
    /// <param name="callback">Called with the reader and writer of each connection; the connection is closed when the returned task ends.</param>
    /// <param name="listenSocket">
    /// A bound stream socket (TCP or Unix). The server owns it from here on and closes it on <see cref="Close"/>.
    /// If it is not listening yet, the server calls <see cref="Socket.Listen(int)"/> with <see cref="StreamServerOptions.Backlog"/>.
    /// </param>
    /// <param name="options">
    /// The server options; <see langword="null"/> for the defaults. <see cref="StreamServerOptions.ReuseAddress"/> and
    /// <see cref="StreamServerOptions.ReusePort"/> do not apply: the socket was bound with its owner's choices.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The server, accepting unless <see cref="StreamServerOptions.StartServing"/> is false.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> or <paramref name="listenSocket"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="listenSocket"/> is not a bound stream socket.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="listenSocket"/> is disposed.</exception>
    /// <exception cref="SocketException">Listening on the socket failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>asyncio equivalent: <c>asyncio.start_server(client_connected_cb, sock=sock, ...)</c>.</remarks>
    public static Task<StreamServer> StartAsync(
        Func<StreamReader, StreamWriter, Task> callback, Socket listenSocket,
        StreamServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentNullException.ThrowIfNull(listenSocket);
        options ??= DefaultOptions;
        var settings = ValidateOptions(options);
        ObjectDisposedException.ThrowIf(listenSocket.SafeHandle.IsClosed, listenSocket);
        if (listenSocket.SocketType != SocketType.Stream)
        {
            throw new ArgumentException("The socket must be a stream socket.", nameof(listenSocket));
        }

        if (!listenSocket.IsBound)
        {
            throw new ArgumentException("The socket must be bound.", nameof(listenSocket));
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!IsListening(listenSocket))
        {
            listenSocket.Listen(options.Backlog);
        }

        return Task.FromResult(Create(callback, [listenSocket], options, settings, ServerHooks.Default));
    }

    /// <summary>Starts a Unix domain socket server listening on <paramref name="path"/>.</summary>
    /// <param name="callback">Called with the reader and writer of each connection; the connection is closed when the returned task ends.</param>
    /// <param name="path">
    /// The socket file path (or an abstract name starting with <c>'\0'</c> on Linux). A socket file already at the
    /// path, left by a server that did not clean up, is removed first; any other file makes the bind fail. The
    /// server removes its socket file on <see cref="Close"/>.
    /// </param>
    /// <param name="options">The server options; <see langword="null"/> for the defaults. The TCP-only options do not apply.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The server, listening, and accepting unless <see cref="StreamServerOptions.StartServing"/> is false.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> or <paramref name="path"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException">The operating system has no Unix domain sockets.</exception>
    /// <exception cref="SocketException">The bind failed (for example <see cref="SocketError.AddressAlreadyInUse"/> when a file that is not a socket is at the path).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>
    /// asyncio equivalent: <c>asyncio.start_unix_server(client_connected_cb, path, ...)</c>. As in asyncio, a socket
    /// file at the path is removed even if another server still listens on it; that server goes on serving the
    /// connections it has.
    /// </remarks>
    public static Task<StreamServer> StartUnixAsync(
        Func<StreamReader, StreamWriter, Task> callback, string path,
        StreamServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= DefaultOptions;
        var settings = ValidateOptions(options);
        if (!Socket.OSSupportsUnixDomainSockets)
        {
            throw new PlatformNotSupportedException("Unix domain sockets are not supported on this operating system.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var logger = CreateLogger(options);
        ServerUnixSocketFile.RemoveStale(path, logger);
        var listener = ServerUnixSocketFile.CreateListener(path, options.Backlog);
        return Task.FromResult(Create(callback, [listener], options, settings, ServerHooks.Default));
    }

    /// <summary>Starts a TCP server with replaced accept-loop hooks (tests inject accept errors through them).</summary>
    internal static Task<StreamServer> StartAsync(
        Func<StreamReader, StreamWriter, Task> callback, string? host, int port,
        StreamServerOptions? options, ServerHooks hooks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        options ??= DefaultOptions;
        var settings = ValidateOptions(options);
        return StartCoreAsync(callback, host, port, options, settings, hooks, cancellationToken);
    }

    private static async Task<StreamServer> StartCoreAsync(
        Func<StreamReader, StreamWriter, Task> callback, string? host, int port,
        StreamServerOptions options, TransportSettings settings, ServerHooks hooks, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var logger = CreateLogger(options);
        var addresses = await ServerBinder.ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var listeners = ServerBinder.Bind(addresses, host, port, options, logger);
        return Create(callback, listeners, options, settings, hooks);
    }

    private static StreamServer Create(
        Func<StreamReader, StreamWriter, Task> callback, Socket[] listeners, StreamServerOptions options,
        TransportSettings settings, ServerHooks hooks)
    {
        var logger = CreateLogger(options);
        var server = new StreamServer(callback, listeners, options, settings, hooks, logger);
        foreach (var endPoint in server._endPoints)
        {
            logger.Listening(endPoint);
        }

        if (options.StartServing)
        {
            server.StartServing();
        }

        return server;
    }

    private static TransportSettings ValidateOptions(StreamServerOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Backlog, nameof(options) + "." + nameof(options.Backlog));
        if (options.MaxConnections is int max)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(max, nameof(options) + "." + nameof(options.MaxConnections));
        }

        return TransportSettings.From(options);
    }

    private static ILogger CreateLogger(StreamServerOptions options) =>
        (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger(ServerLog.LoggerCategory);

    private static bool IsListening(Socket socket) =>
        socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int value && value != 0;
}
