using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Runner;

/// <summary>Settings of a full benchmark run (the <c>run-all</c> verb).</summary>
internal sealed record RunSettings(
    string Root,
    string Artifacts,
    string OutputDirectory,
    bool Quick,
    int Rounds,
    double WarmupSeconds,
    double WindowSeconds,
    double ServerWarmupSeconds,
    double OpenLoopRate,
    IReadOnlyList<string>? Servers,
    IReadOnlyList<string>? Scenarios,
    bool Memory,
    int IdleConnections,
    int SlowReaderMegabytes,
    double SlowReaderStallSeconds,
    string ServerCpu,
    string ClientCpu,
    double QuietPercent,
    double QuietWaitSeconds,
    double MaxOtherPercent,
    int Retries)
{
    public static readonly string[] Flags = ["quick", "no-memory", "list"];

    public const string Usage =
        "run-all [--quick] [--rounds 5] [--server-warmup 5] [--warmup 2] [--window 5] [--rate 20000]\n" +
        "        [--servers a,b,...] [--scenarios x,y,...] [--no-memory] [--idle-connections 5000]\n" +
        "        [--slow-megabytes 100] [--server-cpu 0] [--client-cpu 1] [--quiet-percent 15] [--quiet-wait 30]\n" +
        "        [--max-other 30] [--retries 2]\n" +
        "        [--root DIR] [--artifacts DIR] [--out DIR] [--list]";

    public static RunSettings Parse(CliArguments line)
    {
        var root = Path.GetFullPath(line.String("root") ?? RepositoryRoot.Find());
        var quick = line.Flag("quick");
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var settings = new RunSettings(
            root,
            Path.GetFullPath(line.String("artifacts") ?? Path.Combine(root, "artifacts", "bench")),
            Path.GetFullPath(line.String("out") ?? Path.Combine(root, "bench-results", stamp + (quick ? "-quick" : ""))),
            quick,
            line.Int("rounds", quick ? 1 : 5),
            line.Double("warmup", quick ? 0.5 : 2),
            line.Double("window", quick ? 1.5 : 5),
            line.Double("server-warmup", quick ? 1 : 5),
            line.Double("rate", 20_000),
            List(line.String("servers")),
            List(line.String("scenarios")),
            !line.Flag("no-memory"),
            line.Int("idle-connections", 5000),
            line.Int("slow-megabytes", 100),
            quick ? 1.5 : 3,
            line.String("server-cpu", "0"),
            line.String("client-cpu", "1"),
            line.Double("quiet-percent", 15),
            line.Double("quiet-wait", quick ? 10 : 30),
            line.Double("max-other", 30),
            line.Int("retries", quick ? 1 : 2));
        if (settings.Rounds is < 1 or > 100 || settings.WindowSeconds <= 0 || settings.WarmupSeconds < 0 || settings.ServerWarmupSeconds < 0 || settings.Retries is < 0 or > 10)
        {
            throw new ArgumentException("--rounds, --warmup, --window or --retries is out of range.");
        }

        return settings;
    }

    private static string[]? List(string? value) =>
        value?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
