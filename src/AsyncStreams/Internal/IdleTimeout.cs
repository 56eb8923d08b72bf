namespace AsyncStreams.Internal;

/// <summary>
/// Closes a server's connections that have gone <see cref="StreamServerOptions.IdleTimeout"/> without a byte received
/// or sent. One coarse timer per server sweeps every live connection's byte totals, so the data path keeps no timer
/// and reads no clock: it only adds to two counters it keeps anyway.
/// </summary>
/// <remarks>
/// A sweep that sees a connection's totals changed (or its receiving paused by its own reader) restarts that
/// connection's idle clock at the sweep's time. A connection is therefore closed between the timeout and the timeout
/// plus two sweep periods after its last byte; the period is an eighth of the timeout, at most 500 ms, so the delay
/// beyond the timeout is at most a quarter of it and at most one second. The timer runs only while connections are
/// registered.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "The timer is disposed by the sweep that finds no connection left; nothing else holds the sweeper's lifetime.")]
internal sealed class IdleTimeoutSweeper
{
    private static readonly TimeSpan MaxPeriod = TimeSpan.FromMilliseconds(500);

    private readonly TimeSpan _timeout;
    private readonly long _timeoutMilliseconds;
    private readonly TimeSpan _period;
    private readonly Lock _lock = new();
    private readonly List<SocketTransport> _transports = [];
    private Timer? _timer;

    private IdleTimeoutSweeper(TimeSpan timeout)
    {
        _timeout = timeout;
        _timeoutMilliseconds = (long)Math.Ceiling(timeout.TotalMilliseconds);
        var period = timeout / 8;
        _period = period > MaxPeriod ? MaxPeriod : period < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : period;
    }

    /// <summary>Gets the idle timeout.</summary>
    internal TimeSpan Timeout => _timeout;

    /// <summary>Gets the time between two sweeps.</summary>
    internal TimeSpan Period => _period;

    /// <summary>Gets the number of connections the sweeper watches (closed ones leave at the next sweep).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _transports.Count;
            }
        }
    }

    /// <summary>Returns a sweeper for the <see cref="StreamServerOptions.IdleTimeout"/> of <paramref name="options"/>, or null when there is none.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is zero or negative (other than <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>).</exception>
    internal static IdleTimeoutSweeper? Create(StreamServerOptions options)
    {
        if (options.IdleTimeout is not TimeSpan value || value == System.Threading.Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), value, "options.IdleTimeout must be positive, Timeout.InfiniteTimeSpan or null.");
        }

        return new IdleTimeoutSweeper(value);
    }

    /// <summary>Starts watching a connection that has just started; its idle clock starts now.</summary>
    internal void Register(SocketTransport transport)
    {
        transport.RestartIdleClock(Environment.TickCount64);
        lock (_lock)
        {
            _transports.Add(transport);
            if (_timer is null)
            {
                // The timer outlives the connection that starts it, so it must not hold on to that connection's
                // execution context (its async locals, such as a current activity).
                using (ExecutionContext.SuppressFlow())
                {
                    _timer = new Timer(static state => ((IdleTimeoutSweeper)state!).Sweep(), this, _period, _period);
                }
            }
        }
    }

    private void Sweep()
    {
        long now = Environment.TickCount64;
        List<SocketTransport>? idle = null;
        lock (_lock)
        {
            // Backwards, so that a swap with the last element never skips one that was not looked at.
            for (var i = _transports.Count - 1; i >= 0; i--)
            {
                var transport = _transports[i];
                var closed = transport.IsClosed;
                if (!closed && !transport.IsIdle(now, _timeoutMilliseconds))
                {
                    continue;
                }

                if (!closed)
                {
                    (idle ??= []).Add(transport);
                }

                _transports[i] = _transports[^1];
                _transports.RemoveAt(_transports.Count - 1);
            }

            if (_transports.Count == 0)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }

        if (idle is not null)
        {
            foreach (var transport in idle)
            {
                transport.CloseIdle(_timeout);
            }
        }
    }
}
