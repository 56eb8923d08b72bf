using System.Net.Security;
using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>
/// The send side: writes try one immediate non-blocking send (as asyncio's selector transport does), queue the
/// rest, and a send loop ships the queue; drains wait on the queue's size (asyncio's write flow control).
/// </summary>
internal sealed partial class SocketTransport
{
    // Chunk sizes of the send buffer: small on plain sockets (a remainder of one write), one TLS record over TLS.
    private const int PlainChunkSize = 4096;
    private const int TlsChunkSize = 16 * 1024;

    // At most this many chunks leave in one gather send.
    private const int MaxGatherSegments = 16;

    // Chunk size while writes are held back for one send (see Write): a burst of small answers fills one chunk.
    private const int HeldChunkSize = 16 * 1024;

    private readonly SendBuffer _sendBuffer;
    private List<ArraySegment<byte>>? _segments;
    private SocketSender? _sender;

    // Guarded by _lock.
    private bool _sending;         // The send loop runs; the queue is non-empty or a send is in flight.
    private bool _upgrading;       // StartTls is under way: writes are refused until it ends.
    private bool _eofSent;
    private bool _held;            // Writes made while the receive loop ran the reader's code are queued for one send.
    private TaskCompletionSource? _drainWaiter;
    private TaskCompletionSource? _idleWaiter;

    /// <summary>Gets the number of bytes queued and not yet handed to the operating system.</summary>
    internal long WriteBufferSize
    {
        get
        {
            lock (_lock)
            {
                // Once the connection is lost nothing queued will be sent, as asyncio's abort clears its buffer at once;
                // the chunks themselves go back to the pool when a send still in flight has ended.
                return _lost ? 0 : _sendBuffer.Length;
            }
        }
    }

    /// <summary>Gets whether WriteEof is supported: on plain sockets, not over TLS (as asyncio).</summary>
    internal bool CanWriteEof => SslStream is null;

    /// <summary>Writes <paramref name="data"/> without blocking; see <see cref="StreamWriter.Write(ReadOnlySpan{byte})"/>.</summary>
    internal void Write(ReadOnlySpan<byte> data)
    {
        bool startSendLoop = false;
        bool sendHeld = false;
        int sent = 0;
        SocketError failure = SocketError.Success;

        // Code run by this connection's receive loop (the reader's continuations, on the event loop's thread) that
        // writes while the reader still holds unread bytes is answering pipelined requests: its writes wait for the
        // end of that processing and leave in one send (SendHeldWrites), instead of one system call each.
        bool hold = _holdThread == Environment.CurrentManagedThreadId && _reader.ConsumedBytes < _holdUntil;
        lock (_lock)
        {
            ThrowIfWritesRefusedLocked();
            if (_lost || _closing || data.IsEmpty)
            {
                // asyncio drops writes on a lost connection (and on a TLS connection the peer closed) silently.
                return;
            }

            if (hold && !_sending && _ssl is null)
            {
                _sendBuffer.Append(data, HeldChunkSize);
                _sending = true;
                _held = true;
                return;
            }

            if (!_sending && _ssl is null)
            {
                // Nothing is queued (the queue is only non-empty while the send loop runs), so the bytes can go
                // out at once: one system call, no copy, no thread hop.
                try
                {
                    sent = _directIo
                        ? SocketSyscalls.Send(_socket.SafeHandle, data, out failure)
                        : _socket.Send(data, SocketFlags.None, out failure);
                }
                catch (ObjectDisposedException)
                {
                    // Closed concurrently by a loss, which has been reported.
                    return;
                }

                if (failure == SocketError.Success)
                {
                    data = data[sent..];
                    _sentTotal += sent;
                }
                else if (failure == SocketError.WouldBlock)
                {
                    failure = SocketError.Success;
                }
            }

            if (failure == SocketError.Success && !data.IsEmpty)
            {
                _sendBuffer.Append(data, _held ? HeldChunkSize : 0);
                startSendLoop = !_sending;
                _sending = true;

                // Held writes past the high-water mark go now, so that a drain that waits always has a send under way.
                sendHeld = _held && _sendBuffer.Length > _settings.WriteHighWaterMark;
            }
        }

        CountSent(sent);

        if (failure != SocketError.Success)
        {
            // asyncio's write() reports a send error as a fatal error of the transport, not to the caller.
            OnConnectionLost(new SocketException((int)failure));
        }
        else if (startSendLoop)
        {
            _ = SendLoopAsync();
        }
        else if (sendHeld)
        {
            SendHeldWrites();
        }
    }

    /// <summary>
    /// Sends what <see cref="Write"/> held back while the receive loop ran the reader's code: called by the loop once
    /// that code waits again. Until then the held bytes count as a send in progress, so drains, WriteEof, a close and
    /// a TLS upgrade wait for them as for any queued bytes. Sends without waiting, as an immediate write does; what
    /// the kernel does not take goes to the send loop.
    /// </summary>
    private void SendHeldWrites()
    {
        // Called after every receive's processing, usually with nothing held. Only the holding thread sets the flag,
        // so a clear flag read without the lock is final: that thread would see its own setting, and for any other
        // thread a clear flag means the held bytes were already taken.
        if (!Volatile.Read(ref _held))
        {
            return;
        }

        lock (_lock)
        {
            if (!_held)
            {
                return;
            }

            _held = false;
        }

        while (true)
        {
            int sent = 0;
            int length = 0;
            SocketError failure = SocketError.Success;
            lock (_lock)
            {
                if (!_lost)
                {
                    ReadOnlyMemory<byte> chunk = _sendBuffer.First();
                    length = chunk.Length;
                    try
                    {
                        sent = SocketSyscalls.Send(_socket.SafeHandle, chunk.Span, out failure);
                    }
                    catch (ObjectDisposedException)
                    {
                        // Closed concurrently by a loss, which has been reported; OnSendFailed releases the queue.
                        failure = SocketError.OperationAborted;
                    }
                }
            }

            if (failure == SocketError.WouldBlock)
            {
                _ = SendLoopAsync();
                return;
            }

            if (failure != SocketError.Success)
            {
                OnSendFailed(new SocketException((int)failure));
                return;
            }

            // OnSent consumes the bytes, wakes drainers, and once the queue is empty ends the send and runs a
            // pending WriteEof or close (or, on a lost connection, releases the queue).
            if (!OnSent(sent))
            {
                return;
            }

            if (sent < length)
            {
                _ = SendLoopAsync();
                return;
            }
        }
    }

    /// <summary>Writes the concatenation of <paramref name="lines"/> as one write, so it counts against the watermarks and never interleaves.</summary>
    internal void WriteLines(IEnumerable<byte[]> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);

        // Check every element before writing any, so bad input loses nothing (asyncio joins first, too).
        IReadOnlyCollection<byte[]> list = lines as IReadOnlyCollection<byte[]> ?? [.. lines];
        long total = 0;
        foreach (byte[] line in list)
        {
            if (line is null)
            {
                throw new ArgumentException("The lines must not contain null.", nameof(lines));
            }

            total += line.Length;
        }

        if (total > Array.MaxLength)
        {
            throw new ArgumentException("The lines are longer together than one array can hold.", nameof(lines));
        }

        byte[] joined = PooledBuffers.Rent((int)total);
        try
        {
            int offset = 0;
            foreach (byte[] line in list)
            {
                line.CopyTo(joined, offset);
                offset += line.Length;
            }

            Write(joined.AsSpan(0, offset));
        }
        finally
        {
            PooledBuffers.Return(joined);
        }
    }

    /// <summary>Waits while more than the high-water mark is queued; see <see cref="StreamWriter.DrainAsync(CancellationToken)"/>.</summary>
    internal ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        if (_reader.Exception is Exception readerError)
        {
            return ValueTask.FromException(readerError);
        }

        // The usual case needs no lock: nothing is queued (the queue is only non-empty while a send runs) and the
        // connection is up. Another thread's write or loss seen a moment late orders this drain before it.
        if (!Volatile.Read(ref _sending) && !Volatile.Read(ref _lost))
        {
            return default;
        }

        Task drained;
        lock (_lock)
        {
            if (_lost)
            {
                return ValueTask.FromException(ConnectionLostLocked());
            }

            if (_sendBuffer.Length <= _settings.WriteHighWaterMark)
            {
                return default;
            }

            // One task serves every concurrent drainer (asyncio bpo-29930 was a bug with several).
            _drainWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drained = _drainWaiter.Task;
        }

        return WaitForDrainAsync(drained, cancellationToken);
    }

    /// <summary>Shuts the sending direction down after the queued bytes; see <see cref="StreamWriter.WriteEof"/>.</summary>
    internal void WriteEof()
    {
        if (SslStream is not null)
        {
            throw new NotSupportedException("TLS connections do not support half-closes; use Close.");
        }

        lock (_lock)
        {
            if (_upgrading)
            {
                throw new InvalidOperationException("A TLS upgrade is in progress.");
            }

            // asyncio's write_eof does nothing once closing or after a first write_eof.
            if (_closing || _eofRequested || _lost)
            {
                return;
            }

            _eofRequested = true;
            if (_sending)
            {
                return;
            }

            _eofSent = true;
        }

        ShutdownSend();
    }

    private void ThrowIfWritesRefusedLocked()
    {
        if (_closeRequested)
        {
            throw new InvalidOperationException("The writer is closed.");
        }

        if (_eofRequested)
        {
            throw new InvalidOperationException("Cannot write after WriteEof.");
        }

        if (_upgrading)
        {
            throw new InvalidOperationException("A TLS upgrade is in progress; write once StartTlsAsync has completed.");
        }
    }

    private IOException ConnectionLostLocked()
        => new("The connection is lost.", _lossException);

    private async ValueTask WaitForDrainAsync(Task drained, CancellationToken cancellationToken)
    {
        await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_reader.Exception is Exception readerError)
        {
            throw readerError;
        }

        lock (_lock)
        {
            if (_lost)
            {
                throw ConnectionLostLocked();
            }
        }
    }

    /// <summary>Ships the queue until it is empty, then runs a pending WriteEof or close.</summary>
    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                long sent = await SendQueuedAsync().ConfigureAwait(false);
                if (!OnSent(sent))
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            OnSendFailed(ex);
        }
    }

    /// <summary>Sends what is queued: one TLS write of the first chunk, or one (gather) send of up to <see cref="MaxGatherSegments"/> chunks.</summary>
    private async ValueTask<long> SendQueuedAsync()
    {
        SslStream? ssl = SslStream;
        ReadOnlyMemory<byte> single = default;
        bool gather;
        lock (_lock)
        {
            if (_lost)
            {
                return 0;
            }

            gather = ssl is null && _sendBuffer.ChunkCount > 1;
            if (gather)
            {
                _segments ??= new List<ArraySegment<byte>>(MaxGatherSegments);
                _sendBuffer.CollectSegments(_segments, MaxGatherSegments);
            }
            else
            {
                single = _sendBuffer.First();
            }
        }

        if (ssl is not null)
        {
            await ssl.WriteAsync(single, CancellationToken.None).ConfigureAwait(false);
            return single.Length;
        }

        if (gather)
        {
            _sender ??= new SocketSender();
            return await _sender.SendAsync(_socket, _segments!).ConfigureAwait(false);
        }

        return await _socket.SendAsync(single, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Accounts for sent bytes; wakes drainers at the low-water mark.</summary>
    /// <returns>True when more is queued and the loop goes on.</returns>
    private bool OnSent(long sent)
    {
        bool shutdownSend = false;
        bool close = false;
        CountSent(sent);
        lock (_lock)
        {
            _sentTotal += sent;
            if (_lost)
            {
                _sending = false;
                _sendBuffer.Clear();
                DisposeSenderLocked();
                return false;
            }

            _sendBuffer.Consume(sent);
            if (_drainWaiter is not null && _sendBuffer.Length <= _settings.WriteLowWaterMark)
            {
                _drainWaiter.TrySetResult();
                _drainWaiter = null;
            }

            if (!_sendBuffer.IsEmpty)
            {
                return true;
            }

            _sending = false;
            _idleWaiter?.TrySetResult();
            _idleWaiter = null;
            if (_closing && !_closeStarted)
            {
                _closeStarted = true;
                close = true;
            }
            else if (_eofRequested && !_eofSent)
            {
                _eofSent = true;
                shutdownSend = true;
            }
        }

        if (close)
        {
            RunCloseSequence();
        }
        else if (shutdownSend)
        {
            ShutdownSend();
        }

        return false;
    }

    private void OnSendFailed(Exception exception)
    {
        lock (_lock)
        {
            _sending = false;
            if (_lost)
            {
                // The transport closed the socket under the send (close, abort or a loss seen by the receive loop).
                _sendBuffer.Clear();
                DisposeSenderLocked();
                return;
            }
        }

        if (exception is not (SocketException or IOException or ObjectDisposedException))
        {
            Log.UnexpectedError(_logger, RemoteEndPoint, exception);
        }

        OnConnectionLost(exception);
        lock (_lock)
        {
            _sendBuffer.Clear();
            DisposeSenderLocked();
        }
    }

    /// <summary>Releases the gather-send event args once no send can be in flight any more.</summary>
    private void DisposeSenderLocked()
    {
        _sender?.Dispose();
        _sender = null;
    }

    private void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (ObjectDisposedException)
        {
            // Closed concurrently; nothing left to shut down.
        }
        catch (SocketException ex)
        {
            OnConnectionLost(ex);
        }
    }
}
