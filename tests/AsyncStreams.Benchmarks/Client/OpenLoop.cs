using System.Diagnostics;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>
/// Open loop at a fixed total rate. One pacing thread sends message k at start + k / rate on connection
/// k mod c, whether or not earlier replies have arrived; one receiving thread per connection matches each
/// echo to the time its message was due. Latency is measured from that due time, so when the server (or
/// the client) falls behind, the delay shows in the latency instead of silently lowering the load, which
/// is the coordinated-omission error of closed loops. Up to 65,536 messages may be outstanding per
/// connection; beyond that the server is not sustaining the rate and the run reports it as an error.
/// </summary>
internal sealed class OpenLoop(LoadOptions options) : Workload(options)
{
    private const int RingSize = 1 << 16;

    private readonly List<Thread> _threads = [];
    private readonly List<DueRing> _rings = [];
    private Thread? _pacer;
    private string? _pacerError;

    public override IReadOnlyList<string> Errors =>
        _pacerError is null ? base.Errors : [.. base.Errors, _pacerError];

    public override void Start()
    {
        foreach (var lane in Lanes)
        {
            var ring = new DueRing(RingSize);
            _rings.Add(ring);
            _threads.Add(StartThread($"open-rx-{_threads.Count}", () => Receive(lane, ring)));
        }

        _pacer = StartThread("open-pacer", Pace);
    }

    public override bool Join(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        if (_pacer is not null && !_pacer.Join(timeout))
        {
            return false;
        }

        // The pacer has stopped: wait for the outstanding replies, then close the sockets under the
        // receivers, which are blocked waiting for replies that will never be sent.
        while (DateTime.UtcNow < deadline && _rings.Any(r => r.Count > 0))
        {
            Thread.Sleep(5);
        }

        foreach (var lane in Lanes)
        {
            lane.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        }

        var left = deadline - DateTime.UtcNow;
        return JoinAll(_threads, left > TimeSpan.Zero ? left : TimeSpan.FromSeconds(1));
    }

    private void Pace()
    {
        var interval = Stopwatch.Frequency / Options.Rate;
        var start = Stopwatch.GetTimestamp();
        var lanes = Lanes.Count;
        try
        {
            for (long k = 0; k < MaxMessages && !Stopping; k++)
            {
                var due = start + (long)(k * interval);
                WaitUntil(due);
                var index = (int)(k % lanes);
                if (!_rings[index].TryAdd(due))
                {
                    throw new InvalidOperationException(
                        $"More than {RingSize} replies outstanding on one connection: the server does not sustain {Options.Rate:F0} messages/s.");
                }

                Sockets.SendAll(Lanes[index].Socket, Message);
            }
        }
        catch (Exception e) when (!Stopping)
        {
            _pacerError = e.Message;
            Stop();
        }
    }

    private void WaitUntil(long due)
    {
        // Sleep while the wait is long; for the last millisecond yield instead, so that the send is on
        // time and the receiving threads on the same core still get to run.
        for (var spins = 0; spins < 100_000_000 && !Stopping; spins++)
        {
            var left = due - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return;
            }

            if (left > Stopwatch.Frequency / 500)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    private void Receive(Lane lane, DueRing ring)
    {
        var size = Message.Length;
        var buffer = new byte[Math.Max(65536, size)];
        long partial = 0;
        long done = 0;
        try
        {
            for (long i = 0; i < MaxMessages; i++)
            {
                var n = lane.Socket.Receive(buffer);
                if (n == 0)
                {
                    break;
                }

                var now = Stopwatch.GetTimestamp();
                var newLines = buffer.AsSpan(0, n).Count((byte)'\n');
                var total = partial + n;
                var complete = total / size;
                partial = total % size;
                if (newLines != complete)
                {
                    throw new InvalidDataException("The server's echo does not have the shape of the messages sent.");
                }

                for (var m = 0; m < complete; m++)
                {
                    var due = ring.Take();
                    if (Measuring)
                    {
                        lane.Histogram.RecordTicks(now - due);
                    }
                }

                done += complete;
                Volatile.Write(ref lane.Completed, done);
            }
        }
        catch (Exception e) when (!Stopping)
        {
            lane.Error = e.Message;
        }
        catch (Exception)
        {
            // The run is over and the connection was shut down under the thread: not an error.
        }
    }

    /// <summary>Due times of the messages in flight on one connection: one writer, one reader.</summary>
    private sealed class DueRing(int size)
    {
        private readonly long[] _items = new long[size];
        private long _head;
        private long _tail;

        public long Count => Volatile.Read(ref _head) - Volatile.Read(ref _tail);

        public bool TryAdd(long due)
        {
            var head = _head;
            if (head - Volatile.Read(ref _tail) >= _items.Length)
            {
                return false;
            }

            _items[head % _items.Length] = due;
            Volatile.Write(ref _head, head + 1);
            return true;
        }

        public long Take()
        {
            var tail = _tail;
            if (tail >= Volatile.Read(ref _head))
            {
                throw new InvalidDataException("The server echoed more than was sent.");
            }

            var due = _items[tail % _items.Length];
            Volatile.Write(ref _tail, tail + 1);
            return due;
        }
    }
}
