using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using AsyncStreams.Internal;
using Microsoft.Extensions.Logging;

namespace AsyncStreams;

/// <summary>
/// Listens on one or more sockets and calls a callback with a <see cref="StreamReader"/> and a
/// <see cref="StreamWriter"/> for every connection it accepts.
/// </summary>
/// <remarks>
/// asyncio equivalent: <c>asyncio.Server</c>, as returned by <c>asyncio.start_server</c> and
/// <c>asyncio.start_unix_server</c>. Start one with <see cref="StartAsync(Func{StreamReader, StreamWriter, Task}, string?, int, StreamServerOptions?, CancellationToken)"/>,
/// <see cref="StartAsync(Func{StreamReader, StreamWriter, Task}, Socket, StreamServerOptions?, CancellationToken)"/> or
/// <see cref="StartUnixAsync(Func{StreamReader, StreamWriter, Task}, string, StreamServerOptions?, CancellationToken)"/>;
/// stop it with <see cref="Close"/> (or <see cref="DisposeAsync"/>). The callback of each connection runs on the
/// thread pool, so a slow callback never holds up accepting. A callback that throws is logged at Error and its
/// connection closed; a callback that returns without closing its writer has the connection closed after its
/// queued bytes are sent.
/// </remarks>
public sealed partial class StreamServer : IAsyncDisposable
{
    private readonly Socket[] _listeners;
    private readonly EndPoint[] _endPoints;
    private readonly SslServerAuthenticationOptions? _ssl;
    private readonly int? _maxConnections;
    private readonly TransportSettings _settings;
    private readonly ServerHooks _hooks;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly HashSet<ServerConnection> _connections = new(ServerConnection.Comparer);
    private readonly ServerConnectionSetup _connectionSetup;
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly KeyValuePair<string, object?>[] _metricsTags;
    private TaskCompletionSource? _servingForever;
    private bool _serving;
    private bool _isClosed;

    private StreamServer(
        Func<StreamReader, StreamWriter, Task> callback, Socket[] listeners, StreamServerOptions options,
        TransportSettings settings, ServerHooks hooks, ILogger logger)
    {
        _listeners = listeners;
        _endPoints = Array.ConvertAll(listeners, static listener => listener.LocalEndPoint!);
        _ssl = options.Ssl;
        _maxConnections = options.MaxConnections;
        _settings = settings;
        _hooks = hooks;
        _logger = logger;
        _connectionSetup = new ServerConnectionSetup(callback, _ssl, settings, logger, OnConnectionEnded); // Shared by every connection.
        _metricsTags = MetricsTags.Server(listeners[0].AddressFamily == AddressFamily.Unix, _ssl is not null);
    }

    /// <summary>Gets the local end points the server listens on; empty once the server is closed.</summary>
    /// <value>One end point per listening socket: for a TCP server started with port 0, all share the port that was picked.</value>
    /// <remarks>asyncio equivalent: <c>[s.getsockname() for s in server.sockets]</c>.</remarks>
    public IReadOnlyList<EndPoint> EndPoints
    {
        get
        {
            lock (_gate)
            {
                return _isClosed ? [] : _endPoints;
            }
        }
    }

    /// <summary>Gets whether the server is accepting connections.</summary>
    /// <value><see langword="true"/> from <see cref="StartServing"/> (or a start with <see cref="StreamServerOptions.StartServing"/> left true) until <see cref="Close"/>.</value>
    /// <remarks>asyncio equivalent: <c>Server.is_serving()</c>.</remarks>
    public bool IsServing
    {
        get
        {
            lock (_gate)
            {
                return _serving;
            }
        }
    }

    /// <summary>Starts accepting connections on every listening socket; does nothing if the server already accepts.</summary>
    /// <remarks>
    /// asyncio equivalent: <c>Server.start_serving()</c>. Needed only when the server was started with
    /// <see cref="StreamServerOptions.StartServing"/> set to false. Unlike asyncio, which calls <c>listen()</c> only
    /// here, the sockets listen from the start, so clients that connect early wait in the backlog and are served now.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The server is closed.</exception>
    public void StartServing()
    {
        lock (_gate)
        {
            ThrowIfClosed();
            if (_serving)
            {
                return;
            }

            _serving = true;
        }

        var cancellationToken = _closing.Token;
        foreach (var listener in _listeners)
        {
            _ = AcceptLoopAsync(listener, cancellationToken);
        }
    }

    /// <summary>Accepts connections until <paramref name="cancellationToken"/> is cancelled or the server is closed.</summary>
    /// <param name="cancellationToken">Stops serving: the server is closed and the task ends with <see cref="OperationCanceledException"/>.</param>
    /// <returns>A task that completes when <see cref="Close"/> is called, or is cancelled when <paramref name="cancellationToken"/> is.</returns>
    /// <exception cref="InvalidOperationException">The server is closed, or another call is already serving forever.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the server is closed by then.</exception>
    /// <remarks>
    /// asyncio equivalent: <c>Server.serve_forever()</c>; cancelling the token is cancelling that task. Unlike asyncio,
    /// the cancellation does not wait for the live connections to end (await <see cref="WaitClosedAsync"/>, or
    /// <see cref="DisposeAsync"/>, for that, after <see cref="CloseClients"/> if they should not be waited for), and
    /// a <see cref="Close"/> from elsewhere completes the task instead of cancelling it.
    /// </remarks>
    public async Task ServeForeverAsync(CancellationToken cancellationToken = default)
    {
        var forever = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_servingForever is not null)
            {
                throw new InvalidOperationException("The server is already serving forever in another call.");
            }

            ThrowIfClosed();
            _servingForever = forever;
        }

        try
        {
            StartServing();
            await forever.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Close();
            throw;
        }
        finally
        {
            lock (_gate)
            {
                if (_servingForever == forever)
                {
                    _servingForever = null;
                }
            }
        }
    }

    /// <summary>Stops listening and closes the listening sockets; connections already accepted go on. Calling it again does nothing.</summary>
    /// <remarks>
    /// asyncio equivalent: <c>Server.close()</c>. Use <see cref="CloseClients"/> or <see cref="AbortClients"/> to end
    /// the live connections, and <see cref="WaitClosedAsync"/> to wait for them. A Unix socket server removes its
    /// socket file here.
    /// </remarks>
    public void Close()
    {
        TaskCompletionSource? forever;
        int live;
        lock (_gate)
        {
            if (_isClosed)
            {
                return;
            }

            _isClosed = true;
            _serving = false;
            forever = _servingForever;
            _servingForever = null;
            live = _connections.Count;
        }

        // Cancel first, so that an accept loop failing on its disposed socket knows the failure is the close.
        _closing.Cancel();
        foreach (var listener in _listeners)
        {
            StopListening(listener);
            listener.Dispose();
        }

        _logger.ServerClosed(live);
        forever?.TrySetResult();
        if (live == 0)
        {
            _closed.TrySetResult();
        }
    }

    /// <summary>Makes the operating system stop listening on <paramref name="listener"/> before its descriptor is closed.</summary>
    /// <remarks>
    /// Closing the descriptor alone does not stop a listening socket that another descriptor still refers to, as a
    /// child process forked by any thread of this process holds a copy of every descriptor until it calls exec.
    /// Meanwhile the socket would go on queuing connections (with SO_REUSEPORT, taking its share of the port's
    /// connections from the servers still open) and reset them when the last copy closed. Shutting the socket down
    /// stops it listening whoever else refers to it.
    /// </remarks>
    private static void StopListening(Socket listener)
    {
        try
        {
            listener.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Some systems refuse to shut down a socket that is not connected; there, closing it is all there is.
        }
        catch (ObjectDisposedException)
        {
            // Closed already (a pre-bound socket its owner closed); nothing listens on it any more.
        }
    }

    /// <summary>Waits until the server is closed and every connection it accepted has ended.</summary>
    /// <returns>A task that completes once <see cref="Close"/> has been called and no connection is live; it never faults.</returns>
    /// <remarks>
    /// asyncio equivalent: <c>Server.wait_closed()</c> with Python 3.12.1+ semantics: before <see cref="Close"/> it
    /// waits for the close too. A connection has ended when its socket is closed, whether or not its callback has returned.
    /// </remarks>
    public Task WaitClosedAsync() => _closed.Task;

    /// <summary>Closes the server and waits until every connection has ended: <see cref="Close"/>, then <see cref="WaitClosedAsync"/>. Calling it again is harmless.</summary>
    /// <returns>A task that completes when the server and every connection are closed.</returns>
    /// <remarks>asyncio equivalent: leaving <c>async with server:</c>, which calls <c>close()</c> and <c>wait_closed()</c>.</remarks>
    public async ValueTask DisposeAsync()
    {
        Close();
        await WaitClosedAsync().ConfigureAwait(false);
    }

    private void ThrowIfClosed()
    {
        if (_isClosed)
        {
            throw new InvalidOperationException("The server is closed.");
        }
    }
}
