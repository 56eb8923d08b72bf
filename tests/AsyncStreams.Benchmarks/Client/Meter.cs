using System.Diagnostics;
using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>One reading of the clocks and counters that bracket a measurement window.</summary>
internal sealed record MeterReading(
    long Timestamp, double? ServerCpu, long? ServerRss, ServerStats? Stats, double ClientCpu, double MachineBusy);

/// <summary>Reads the server's and the client's counters at the edges of the measurement window.</summary>
internal sealed class Meter(int? serverPid, string? statsPath)
{
    private static readonly int OwnPid = Environment.ProcessId;

    public MeterReading Read()
    {
        var stats = ServerStats.Query(statsPath);
        return new MeterReading(
            Stopwatch.GetTimestamp(),
            serverPid is { } pid ? ProcStat.CpuSeconds(pid) : null,
            serverPid is { } p ? ProcStat.RssBytes(p) : null,
            stats,
            ProcStat.CpuSeconds(OwnPid),
            ProcStat.MachineBusySeconds());
    }

    /// <summary>Turns two readings and a message count into the figures of a <see cref="LoadResult"/>.</summary>
    public static LoadResult Result(
        LoadOptions options, MeterReading start, MeterReading end, long messages, LatencySummary latency, IReadOnlyList<string> errors)
    {
        var seconds = (end.Timestamp - start.Timestamp) / (double)Stopwatch.Frequency;
        double? serverCpu = end.ServerCpu - start.ServerCpu;
        var clientCpu = end.ClientCpu - start.ClientCpu;
        var otherCpu = Math.Max(0, end.MachineBusy - start.MachineBusy - clientCpu - (serverCpu ?? 0));
        var perMessage = messages > 0 ? 1.0 / messages : double.NaN;
        return new LoadResult(
            options.Loop.ToString().ToLowerInvariant(),
            options.Io.ToString().ToLowerInvariant(),
            options.Connections,
            options.Size,
            options.Loop == LoadLoop.Open ? options.Rate : 0,
            options.Loop == LoadLoop.Pipelined ? options.Depth : 0,
            seconds,
            messages,
            messages / seconds,
            messages * (double)options.Size / seconds / 1e6,
            latency,
            serverCpu,
            serverCpu * 1e6 * perMessage,
            serverCpu / seconds * 100,
            clientCpu,
            clientCpu / seconds * 100,
            otherCpu / seconds * 100,
            end.ServerRss,
            end.Stats is { } e && start.Stats is { } s ? (e.AllocatedBytes - s.AllocatedBytes) * perMessage : null,
            end.Stats is { } e2 && start.Stats is { } s2 ? (e2.CompletedWorkItems - s2.CompletedWorkItems) * perMessage : null,
            end.Stats?.Gen0 - start.Stats?.Gen0,
            end.Stats?.Gen1 - start.Stats?.Gen1,
            end.Stats?.Gen2 - start.Stats?.Gen2,
            end.Stats?.ServerGC,
            errors);
    }
}
