using AsyncStreams.Internal;

namespace AsyncStreams;

/// <summary>
/// Writes to a connection: <see cref="Write(ReadOnlySpan{byte})"/> never blocks, the bytes go out on their own,
/// and <see cref="DrainAsync(CancellationToken)"/> applies backpressure by waiting while too much is queued.
/// </summary>
/// <remarks>
/// asyncio equivalent: <c>asyncio.StreamWriter</c>. Instances come from
/// <see cref="Streams.OpenConnectionAsync(string, int, bool, ConnectionOptions?, CancellationToken)"/> and from a
/// <see cref="StreamServer"/>'s callback. All members are safe to call from several threads at once.
/// </remarks>
public sealed partial class StreamWriter : IAsyncDisposable
{
    private readonly SocketTransport _transport;

    internal StreamWriter(SocketTransport transport) => _transport = transport;

    /// <summary>Gets whether a close has begun: <see cref="Close"/> was called, or the connection was closed or lost. Initially <see langword="false"/>.</summary>
    /// <remarks>asyncio equivalent: <c>StreamWriter.is_closing()</c>.</remarks>
    public bool IsClosing => _transport.IsClosing;

    /// <summary>Gets the number of bytes written and not yet handed to the operating system. Starts at 0.</summary>
    /// <remarks>asyncio equivalent: <c>transport.get_write_buffer_size()</c>.</remarks>
    public long WriteBufferSize => _transport.WriteBufferSize;

    /// <summary>Gets whether <see cref="WriteEof"/> is supported: <see langword="true"/> on plain TCP and Unix sockets, <see langword="false"/> over TLS.</summary>
    /// <remarks>asyncio equivalent: <c>StreamWriter.can_write_eof()</c>.</remarks>
    public bool CanWriteEof => _transport.CanWriteEof;

    /// <summary>Writes <paramref name="data"/> to the connection without blocking.</summary>
    /// <param name="data">The bytes to write; they are copied if they cannot be sent at once.</param>
    /// <remarks>
    /// <para>asyncio equivalent: <c>StreamWriter.write(data)</c>. The bytes are sent at once when the socket takes
    /// them, otherwise queued and sent in the background without a call to <see cref="DrainAsync(CancellationToken)"/>;
    /// call that to wait while the queue is above the high-water mark. Bytes of one call never interleave with
    /// another call's. After the connection is lost the bytes are dropped silently, as asyncio does.</para>
    /// <para>One exception batches answers to pipelined requests: on the Linux event loop, a write made by code the
    /// loop runs after a receive, while this connection's reader still holds unread bytes of that receive, is
    /// queued and sent together with the others of that run as soon as the code awaits something not yet ready
    /// (see the threading model in the documentation).</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The writer was closed, <see cref="WriteEof"/> was called, or a TLS upgrade is in progress.</exception>
    public void Write(ReadOnlySpan<byte> data) => _transport.Write(data);

    /// <summary>Writes the concatenation of <paramref name="lines"/> as one write; no separators are added.</summary>
    /// <param name="lines">The byte arrays to write, in order.</param>
    /// <remarks>asyncio equivalent: <c>StreamWriter.writelines(data)</c>. The bytes count against the same watermarks as <see cref="Write(ReadOnlySpan{byte})"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="lines"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="lines"/> contains <see langword="null"/>; nothing is written.</exception>
    /// <exception cref="InvalidOperationException">The writer was closed, <see cref="WriteEof"/> was called, or a TLS upgrade is in progress.</exception>
    public void WriteLines(IEnumerable<byte[]> lines) => _transport.WriteLines(lines);

    /// <summary>Waits until it is appropriate to write again: at once while at most the high-water mark is queued, otherwise until the queue falls to the low-water mark.</summary>
    /// <param name="cancellationToken">Cancels the wait; the queued bytes are still sent. Default: none.</param>
    /// <returns>A task that completes when the queue is small enough.</returns>
    /// <remarks>asyncio equivalent: <c>await StreamWriter.drain()</c>. Several callers may wait at once.</remarks>
    /// <exception cref="IOException">The connection is lost or closed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled while waiting.</exception>
    /// <exception cref="Exception">The exception the connection's <see cref="StreamReader"/> holds, if any, is thrown as it is.</exception>
    public ValueTask DrainAsync(CancellationToken cancellationToken = default) => _transport.DrainAsync(cancellationToken);

    /// <summary>Closes the sending direction (TCP FIN) once the queued bytes are sent; the connection can still receive.</summary>
    /// <remarks>asyncio equivalent: <c>StreamWriter.write_eof()</c> (shutdown SHUT_WR). Calling it again, or after <see cref="Close"/>, does nothing.</remarks>
    /// <exception cref="NotSupportedException">The connection uses TLS (see <see cref="CanWriteEof"/>).</exception>
    /// <exception cref="InvalidOperationException">A TLS upgrade is in progress.</exception>
    public void WriteEof() => _transport.WriteEof();

    /// <summary>Closes the connection gracefully: no more writes, the queued bytes are sent, then FIN (after close_notify over TLS).</summary>
    /// <remarks>
    /// asyncio equivalent: <c>StreamWriter.close()</c>. Returns at once; <see cref="WaitClosedAsync"/> completes when
    /// the socket is closed. Over TLS the close waits for the peer's close_notify for at most the SslShutdownTimeout
    /// option. Calling it again does nothing.
    /// </remarks>
    public void Close() => _transport.Close();

    /// <summary>Waits until the connection's socket is closed.</summary>
    /// <returns>A task that completes once the socket is closed and the reader has seen the end; it never faults.</returns>
    /// <remarks>asyncio equivalent: <c>await StreamWriter.wait_closed()</c>.</remarks>
    public Task WaitClosedAsync() => _transport.Closed;

    /// <summary>Closes the connection (<see cref="Close"/>) and waits until it is closed (<see cref="WaitClosedAsync"/>).</summary>
    /// <returns>A task that completes once the socket is closed.</returns>
    /// <remarks>asyncio equivalent: <c>writer.close(); await writer.wait_closed()</c>.</remarks>
    public async ValueTask DisposeAsync()
    {
        Close();
        await WaitClosedAsync().ConfigureAwait(false);
    }

    /// <summary>Resets the connection now (linger 0): queued bytes are dropped and the reader sees the end.</summary>
    internal void Abort() => _transport.Abort();

    /// <summary>Gets the transport, for the server and the tests.</summary>
    internal SocketTransport Transport => _transport;
}
