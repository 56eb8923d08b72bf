using System.Net.Sockets;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>One connection of a workload: its socket, its histogram and its counters.</summary>
internal sealed class Lane(Socket socket)
{
    public Socket Socket { get; } = socket;

    public LatencyHistogram Histogram { get; } = new();

    /// <summary>Messages completed so far, written by the lane's own thread only.</summary>
    public long Completed;

    public string? Error { get; set; }
}

/// <summary>
/// A way of loading the server over a set of connections. The driver connects, starts the workload,
/// opens the measurement window (latencies are recorded only inside it), then stops it; the workload's
/// threads finish the message they are on and exit.
/// </summary>
internal abstract class Workload(LoadOptions options) : IDisposable
{
    // An upper bound on messages per connection, so that every loop is finite even if the phase flag
    // were never set; at a million messages per second it is more than a day.
    protected const long MaxMessages = 100_000_000_000;

    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(15);

    private volatile int _phase;

    protected LoadOptions Options { get; } = options;

    protected byte[] Message { get; } = LoadOptions.Message(options.Size);

    protected List<Lane> Lanes { get; } = [];

    protected bool Measuring => _phase == 1;

    protected bool Stopping => _phase == 2;

    public long Completed => Lanes.Sum(l => Volatile.Read(ref l.Completed));

    public virtual IReadOnlyList<string> Errors => Lanes.Where(l => l.Error is not null).Select(l => l.Error!).Distinct().ToList();

    /// <summary>Opens every connection and checks one echo on each before any load starts.</summary>
    public void Connect()
    {
        for (var i = 0; i < Options.Connections; i++)
        {
            var socket = Sockets.Connect(Options.EndPoint, IoTimeout);
            Lanes.Add(new Lane(socket));
            Sockets.VerifyEcho(socket, Message);
        }
    }

    public abstract void Start();

    public void BeginMeasuring() => _phase = 1;

    public void Stop() => _phase = 2;

    /// <summary>Waits for the workload's threads; false if some are still running after the timeout.</summary>
    public abstract bool Join(TimeSpan timeout);

    public LatencyHistogram MergedHistogram()
    {
        var merged = new LatencyHistogram();
        foreach (var lane in Lanes)
        {
            merged.Merge(lane.Histogram);
        }

        return merged;
    }

    /// <summary>Closes every connection, which also ends any thread still blocked on one.</summary>
    public void Dispose()
    {
        foreach (var lane in Lanes)
        {
            Sockets.Reset(lane.Socket);
        }

        GC.SuppressFinalize(this);
    }

    protected static bool JoinAll(IEnumerable<Thread> threads, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var thread in threads)
        {
            var left = deadline - DateTime.UtcNow;
            if (left < TimeSpan.Zero || !thread.Join(left))
            {
                return false;
            }
        }

        return true;
    }

    protected static Thread StartThread(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}
