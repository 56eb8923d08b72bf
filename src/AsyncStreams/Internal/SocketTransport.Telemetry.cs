using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>
/// The transport's byte accounting: the <c>asyncstreams.bytes_received</c> and <c>asyncstreams.bytes_sent</c> counters
/// (added once per receive or send call, never per message) and the totals the idle-timeout sweeper watches.
/// </summary>
internal sealed partial class SocketTransport
{
    // Written by the receive loop only; read by the sweeper.
    private long _receivedTotal;

    // Written under _lock only (the immediate send of Write and the send loop); read by the sweeper.
    private long _sentTotal;

    // True while the receive loop waits for the reader to consume its buffered bytes: the application, not the
    // peer, holds the connection up then, so that time is not idle.
    private volatile bool _waitingForReader;

    // The sweeper's view, touched by the sweeper only (one sweep at a time, under its lock).
    private long _idleSeenTotal = -1;
    private long _idleSince;

    private KeyValuePair<string, object?>[] _byteTags = [];

    /// <summary>Chooses the tags of the byte counters; called at start and after a TLS upgrade.</summary>
    private void SelectByteTags() =>
        _byteTags = MetricsTags.Connection(_socket.AddressFamily == AddressFamily.Unix, SslStream is not null, _settings.IsServer);

    /// <summary>Accounts for one receive call's bytes.</summary>
    private void OnReceived(int count)
    {
        _receivedTotal += count;
        var counter = _settings.Metrics.BytesReceived;
        if (counter.Enabled)
        {
            counter.Add(count, _byteTags);
        }
    }

    /// <summary>Adds one send call's bytes to the counter; the caller has added them to <see cref="_sentTotal"/> under the lock.</summary>
    private void CountSent(long count)
    {
        var counter = _settings.Metrics.BytesSent;
        if (count > 0 && counter.Enabled)
        {
            counter.Add(count, _byteTags);
        }
    }

    /// <summary>Starts the idle clock at <paramref name="now"/> (<see cref="Environment.TickCount64"/>).</summary>
    internal void RestartIdleClock(long now)
    {
        _idleSeenTotal = Volatile.Read(ref _receivedTotal) + Volatile.Read(ref _sentTotal);
        _idleSince = now;
    }

    /// <summary>Says whether no byte moved since the previous sweeps for at least <paramref name="timeoutMilliseconds"/>.</summary>
    internal bool IsIdle(long now, long timeoutMilliseconds)
    {
        long total = Volatile.Read(ref _receivedTotal) + Volatile.Read(ref _sentTotal);
        if (total != _idleSeenTotal || _waitingForReader)
        {
            _idleSeenTotal = total;
            _idleSince = now;
            return false;
        }

        return now - _idleSince >= timeoutMilliseconds;
    }

    /// <summary>
    /// Closes the connection for having been idle: its reader fails with an <see cref="IOException"/> wrapping a
    /// <see cref="TimeoutException"/>, then the connection closes gracefully, or is reset when bytes are queued (they
    /// could not be sent for the whole timeout, so a graceful close would wait for them forever).
    /// </summary>
    internal void CloseIdle(TimeSpan timeout)
    {
        var error = new IOException(
            $"The connection was closed: no byte was received or sent for {timeout.TotalSeconds:0.###} s (IdleTimeout).",
            new TimeoutException($"The connection was idle for {timeout.TotalSeconds:0.###} s."));
        bool abort;
        bool start;
        lock (_lock)
        {
            if (_lost || (_closeStarted && _sendBuffer.IsEmpty))
            {
                // Already closed, or closing with nothing left to send (a TLS close is bounded by SslShutdownTimeout).
                return;
            }

            abort = !_sendBuffer.IsEmpty;
            start = !abort && BeginClosingLocked();
        }

        Log.IdleTimeoutClosed(_logger, RemoteEndPoint, timeout, abort);
        SetReaderException(error);
        if (abort)
        {
            Abort();
        }
        else if (start)
        {
            RunCloseSequence();
        }
    }
}
