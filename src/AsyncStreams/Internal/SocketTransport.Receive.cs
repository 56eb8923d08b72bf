using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>The receive loops: socket (or TLS stream) to the reader's pipe, with asyncio's pause/resume reading.</summary>
internal sealed partial class SocketTransport
{
    // The size asked of the pipe per receive: big enough that a request takes one system call. The pipe returns
    // its segments to the pool once they are read, so an idle connection keeps none.
    private const int ReceiveSizeHint = 16 * 1024;

    // A bulk transfer (receives that fill their buffer) doubles the size up to this, and never beyond the reader's
    // Limit, so that what a paused reader holds stays within 2 x Limit plus one receive. asyncio reads up to 256 KiB.
    private const int MaxReceiveSize = 256 * 1024;

    // Over TLS one read returns at most one decrypted record (up to 16 KiB).
    private const int TlsReceiveSizeHint = 16 * 1024;

    private Task? _receiveTask;
    private CancellationTokenSource? _receiveCts;
    private bool _directIo;                  // Plain and on an event loop: recv/send go straight to libc (SocketSyscalls).
    private int _holdThread;                 // The thread whose writes are held for one send (see Write), or 0.
    private long _holdUntil;                 // Writes are held while the reader has consumed fewer bytes than this.
    private volatile bool _stopReceiving;    // StartTls: leave the loop at a byte boundary.
    private volatile bool _discardReceived;  // TLS close: drop what arrives until the peer's close_notify.
    private volatile bool _peerEof;

    // How the reader was told that the stream ended: nothing yet, EOF, or an exception.
    private const int ReaderEndNone = 0;
    private const int ReaderEndEof = 1;
    private const int ReaderEndException = 2;
    private int _readerEnd;

    // The receive loop's task (TLS, or plain without an event loop), else the event-loop receiver's end.
    private Task ReceiveTask => Volatile.Read(ref _receiveTask) ?? (Volatile.Read(ref _loop) is null ? Task.CompletedTask : ReceiverEndedTask);

    /// <summary>
    /// Feeds the reader from a plain socket where no event loop drives receiving (see SocketTransport.Receiver.cs):
    /// a zero-byte receive on the runtime's engine waits for data, so an idle connection holds no buffer, then one
    /// non-blocking receive goes straight into the pipe's memory.
    /// </summary>
    private async Task ReceivePlainAsync(CancellationToken cancellationToken)
    {
        StreamReader.FeedInput input = _reader.Input;
        int maxReceiveSize = Math.Clamp(_reader.Limit, ReceiveSizeHint, MaxReceiveSize);
        int receiveSize = ReceiveSizeHint;
        try
        {
            while (true)
            {
                // When data is already there this completes at once, so a busy connection pays one cheap peek
                // per receive; an idle one holds no buffer while it waits.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (_stopReceiving)
                {
                    return;
                }

                Memory<byte> memory = ReceiveMemory(input, receiveSize, maxReceiveSize);

                int received = _socket.Receive(memory.Span, SocketFlags.None, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    continue;
                }

                if (error != SocketError.Success)
                {
                    throw new SocketException((int)error);
                }

                if (received == 0)
                {
                    OnPeerEof();
                    return;
                }

                receiveSize = NextReceiveSize(receiveSize, received, memory.Length, maxReceiveSize);
                input.Advance(received);
                OnReceived(received);
                if (!await FeedAsync(input, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            OnReceiveFailed(ex);
        }
    }

    /// <summary>The pipe's memory for the next receive: at least <paramref name="size"/> bytes, at most <paramref name="max"/>.</summary>
    private static Memory<byte> ReceiveMemory(StreamReader.FeedInput input, int size, int max)
    {
        Memory<byte> memory = input.GetMemory(size);
        return memory.Length > max ? memory[..max] : memory;
    }

    /// <summary>Bulk transfers (receives that fill their buffer) double the size up to <paramref name="max"/>; a short receive resets it.</summary>
    private static int NextReceiveSize(int size, int received, int bufferLength, int max) =>
        received == bufferLength ? Math.Min(size * 2, max)
        : received < ReceiveSizeHint ? ReceiveSizeHint
        : size;

    /// <summary>
    /// Says whether nobody will read any more after a flush: the reader was completed, or every read now throws its
    /// exception. asyncio leaves such a transport paused; stopping receiving keeps a flooding peer from filling memory.
    /// </summary>
    private bool ReaderGone(in FlushResult flush) => flush.IsCompleted || _reader.Exception is not null;

    /// <summary>Feeds the reader from a TLS stream; zero-byte reads let the stream release its buffer while idle.</summary>
    private async Task ReceiveTlsAsync(SslStream ssl, CancellationToken cancellationToken)
    {
        StreamReader.FeedInput input = _reader.Input;
        byte[]? discard = null;
        try
        {
            while (true)
            {
                if (_discardReceived)
                {
                    // A close is under way: no read is in flight here, so close_notify can go out. If it cannot,
                    // the peer will not answer, and the loop ends so that the close goes on at once.
                    if (!await SendCloseNotifyAsync(ssl).ConfigureAwait(false))
                    {
                        FeedReaderEof();
                        return;
                    }

                    discard ??= PooledBuffers.Rent(ReceiveSizeHint);
                    if (await ssl.ReadAsync(discard, CancellationToken.None).ConfigureAwait(false) == 0)
                    {
                        OnPeerEof();
                        return;
                    }

                    continue;
                }

                try
                {
                    // The loop waits here for data; a close cancels the wait so that the loop sends close_notify.
                    // A cancelled read of SslStream keeps the bytes of a partial record for the next read.
                    await ssl.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_discardReceived)
                {
                    continue;
                }

                Memory<byte> memory = input.GetMemory(TlsReceiveSizeHint);
                int received = await ssl.ReadAsync(memory, CancellationToken.None).ConfigureAwait(false);
                if (received == 0)
                {
                    OnPeerEof();
                    return;
                }

                input.Advance(received);
                OnReceived(received);
                if (!await FeedAsync(input, cancellationToken).ConfigureAwait(false) && !_discardReceived)
                {
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            OnReceiveFailed(ex);
        }
        finally
        {
            if (discard is not null)
            {
                PooledBuffers.Return(discard);
            }

            // Pairs with the barrier in CloseTlsAsync: a close that began while the loop was ending, and that the
            // loop did not see in time, sends close_notify itself.
            Interlocked.Exchange(ref _tlsReceiveEnded, 1);
            if (_discardReceived)
            {
                await SendCloseNotifyAsync(ssl).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Publishes the advanced bytes to the reader, then waits while the reader holds more than 2 x Limit
    /// (asyncio's pause_reading / resume_reading).
    /// </summary>
    /// <returns>False when the loop must stop: the reader no longer reads, or the transport asked the loop to stop.</returns>
    private async ValueTask<bool> FeedAsync(StreamReader.FeedInput input, CancellationToken cancellationToken)
    {
        FlushResult flush = input.Flush();
        if (ReaderGone(flush))
        {
            return false;
        }

        try
        {
            ValueTask room = _reader.WaitForRoomAsync(cancellationToken);
            if (!room.IsCompletedSuccessfully)
            {
                _waitingForReader = true;
                try
                {
                    await room.ConfigureAwait(false);
                }
                finally
                {
                    _waitingForReader = false;
                }
            }
        }
        catch (OperationCanceledException) when (_discardReceived)
        {
            // A TLS close wants the loop to go on reading without waiting for the reader.
            return false;
        }

        return !_stopReceiving;
    }

    /// <summary>Handles the peer's EOF: a half-close on plain TCP; over TLS it closes both directions, as asyncio's SSL transport does.</summary>
    private void OnPeerEof()
    {
        _peerEof = true;
        Log.PeerEof(_logger, RemoteEndPoint);
        FeedReaderEof();
        if (SslStream is not null)
        {
            bool start;
            lock (_lock)
            {
                start = BeginClosingLocked();
            }

            if (start)
            {
                RunCloseSequence();
            }
        }
    }

    /// <summary>Feeds EOF to the reader once, unless a loss already gave it an exception.</summary>
    private void FeedReaderEof()
    {
        if (Interlocked.CompareExchange(ref _readerEnd, ReaderEndEof, ReaderEndNone) == ReaderEndNone)
        {
            _reader.FeedEof();
        }
    }

    /// <summary>Gives the reader the loss's exception, even after EOF, as asyncio's connection_lost(exc) does.</summary>
    private void SetReaderException(IOException error)
    {
        if (Interlocked.Exchange(ref _readerEnd, ReaderEndException) != ReaderEndException)
        {
            _reader.SetException(error);
        }
    }

    /// <summary>Sorts out why a receive loop ended with an exception.</summary>
    private void OnReceiveFailed(Exception exception)
    {
        if (_stopReceiving && exception is OperationCanceledException)
        {
            // StartTls stopped the loop; nothing was consumed.
            return;
        }

        if (Volatile.Read(ref _socketClosed) != 0 || _discardReceived)
        {
            // The transport closed the socket under the loop: the reader sees the end of the stream, as
            // asyncio's connection_lost(None) feeds EOF.
            FeedReaderEof();
            return;
        }

        if (exception is not (SocketException or IOException or ObjectDisposedException or OperationCanceledException))
        {
            Log.UnexpectedError(_logger, RemoteEndPoint, exception);
        }

        OnConnectionLost(exception);
    }

    /// <summary>Wakes a receive loop waiting for room in the reader or for data, so that it sees a changed flag.</summary>
    private void CancelReceiveWait()
    {
        try
        {
            _receiveCts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The loop it belonged to has already been replaced.
        }

        if (Volatile.Read(ref _loop) is not null)
        {
            StopReceiver();
        }
    }
}
