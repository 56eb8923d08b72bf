using System.Diagnostics;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>
/// Records latencies at 1 µs resolution. Values below 100 ms go into one counter per microsecond; the rare
/// longer ones are kept exactly in a list, so every percentile is exact to the microsecond. One histogram
/// belongs to one thread; histograms are merged after the run.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int LinearMicroseconds = 100_000;

    private readonly int[] _counts = new int[LinearMicroseconds];
    private readonly List<long> _slow = new(1024);
    private long _count;
    private double _sumMicroseconds;

    public long Count => _count;

    /// <summary>Records an interval measured in <see cref="Stopwatch"/> ticks.</summary>
    public void RecordTicks(long ticks)
    {
        var microseconds = ticks <= 0 ? 0 : (long)(ticks * 1_000_000.0 / Stopwatch.Frequency);
        if (microseconds < LinearMicroseconds)
        {
            _counts[microseconds]++;
        }
        else
        {
            _slow.Add(microseconds);
        }

        _count++;
        _sumMicroseconds += microseconds;
    }

    /// <summary>Adds the other histogram's values to this one.</summary>
    public void Merge(LatencyHistogram other)
    {
        for (var i = 0; i < LinearMicroseconds; i++)
        {
            _counts[i] += other._counts[i];
        }

        _slow.AddRange(other._slow);
        _count += other._count;
        _sumMicroseconds += other._sumMicroseconds;
    }

    /// <summary>Summarises the recorded values; percentiles are the smallest value at or above the rank.</summary>
    public LatencySummary Summarise()
    {
        if (_count == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0, 0, 0);
        }

        _slow.Sort();
        var max = _slow.Count > 0 ? _slow[^1] : LastLinear();
        return new LatencySummary(
            _count,
            _sumMicroseconds / _count,
            Percentile(0.50),
            Percentile(0.90),
            Percentile(0.99),
            Percentile(0.999),
            Percentile(0.9999),
            max);
    }

    private long LastLinear()
    {
        for (var i = LinearMicroseconds - 1; i >= 0; i--)
        {
            if (_counts[i] != 0)
            {
                return i;
            }
        }

        return 0;
    }

    private long Percentile(double quantile)
    {
        var rank = (long)Math.Ceiling(quantile * _count);
        rank = Math.Clamp(rank, 1, _count);
        long seen = 0;
        for (var i = 0; i < LinearMicroseconds; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return i;
            }
        }

        return _slow[(int)(rank - seen - 1)];
    }
}

/// <summary>Latency figures in microseconds.</summary>
internal sealed record LatencySummary(
    long Count, double Mean, long P50, long P90, long P99, long P999, long P9999, long Max);
