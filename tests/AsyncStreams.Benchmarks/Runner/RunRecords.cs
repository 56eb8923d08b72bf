using AsyncStreams.Benchmarks.Client;
using AsyncStreams.Benchmarks.Scenarios;

namespace AsyncStreams.Benchmarks.Runner;

/// <summary>One client run against one server in one round; Result is null when the run failed.</summary>
/// BusyBeforePercent is how busy the machine was (percent of one core) just before the run started;
/// Attempt is which attempt was kept when noisy runs were repeated.
internal sealed record RunRecord(
    string Server, string Scenario, int Round, string Command, double BusyBeforePercent, int Attempt, LoadResult? Result, string? Error);

/// <summary>The memory scenarios of one server.</summary>
internal sealed record MemoryRecord(
    string Server, string? Command, IdleMemoryResult? Idle, string? IdleError, SlowReaderResult? SlowReader, string? SlowReaderError);

/// <summary>The median and range of one figure over the rounds.</summary>
internal sealed record Spread(double Median, double Min, double Max, int Count)
{
    public static Spread? Of(IEnumerable<double?> values)
    {
        var list = values.Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).Order().ToList();
        if (list.Count == 0)
        {
            return null;
        }

        var mid = list.Count / 2;
        var median = list.Count % 2 == 1 ? list[mid] : (list[mid - 1] + list[mid]) / 2;
        return new Spread(median, list[0], list[^1], list.Count);
    }
}

/// <summary>The figures of one server in one scenario, over every round that succeeded.</summary>
internal sealed record Summary(
    string Scenario,
    string Server,
    int Runs,
    int Failures,
    Spread? MessagesPerSecond,
    Spread? MegabytesPerSecond,
    Spread? P50Microseconds,
    Spread? P99Microseconds,
    Spread? P999Microseconds,
    Spread? ServerCpuMicrosecondsPerMessage,
    Spread? ServerCpuPercent,
    Spread? ClientCpuPercent,
    Spread? OtherCpuPercent,
    Spread? AllocatedBytesPerMessage,
    Spread? WorkItemsPerMessage)
{
    public static Summary Of(string scenario, string server, IReadOnlyList<RunRecord> runs)
    {
        var ok = runs.Where(r => r.Result is not null && r.Error is null).Select(r => r.Result!).ToList();
        return new Summary(
            scenario,
            server,
            runs.Count,
            runs.Count - ok.Count,
            Spread.Of(ok.Select(r => (double?)r.MessagesPerSecond)),
            Spread.Of(ok.Select(r => (double?)r.MegabytesPerSecond)),
            Spread.Of(ok.Select(r => (double?)r.Latency.P50)),
            Spread.Of(ok.Select(r => (double?)r.Latency.P99)),
            Spread.Of(ok.Select(r => (double?)r.Latency.P999)),
            Spread.Of(ok.Select(r => r.ServerCpuMicrosecondsPerMessage)),
            Spread.Of(ok.Select(r => r.ServerCpuPercent)),
            Spread.Of(ok.Select(r => (double?)r.ClientCpuPercent)),
            Spread.Of(ok.Select(r => (double?)r.OtherCpuPercent)),
            Spread.Of(ok.Select(r => r.AllocatedBytesPerMessage)),
            Spread.Of(ok.Select(r => r.WorkItemsPerMessage)));
    }
}

/// <summary>Where and how the figures were taken.</summary>
internal sealed record MachineInfo(
    string Cpu, int LogicalCpus, string Kernel, string DotnetRuntime, string? Node, string? Python, string? Gcc, string? Commit, DateTime StartedUtc);

/// <summary>Everything a run produced; written as results.json.</summary>
internal sealed record RunReport(
    MachineInfo Machine,
    RunSettings Settings,
    IReadOnlyList<ServerDescription> Servers,
    IReadOnlyList<Scenario> Scenarios,
    IReadOnlyList<Summary> Summaries,
    IReadOnlyList<MemoryRecord> Memory,
    IReadOnlyList<RunRecord> Runs,
    IReadOnlyList<string> Skipped);

/// <summary>A server as the report names it.</summary>
internal sealed record ServerDescription(string Name, string Description, bool IsDotNet, IReadOnlyDictionary<string, string> Environment);
