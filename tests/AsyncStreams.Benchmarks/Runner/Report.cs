using System.Globalization;
using System.Text;

namespace AsyncStreams.Benchmarks.Runner;

/// <summary>Renders a run as markdown: the headline comparison, one table per scenario, the memory scenarios.</summary>
internal static class Report
{
    private const string Headline = "line-1k-c10";
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static string Markdown(RunReport report)
    {
        var md = new StringBuilder();
        var s = report.Settings;
        var m = report.Machine;
        md.AppendLine(C, $"# AsyncStreams benchmark results{(s.Quick ? " (quick smoke run: short windows, one round)" : "")}");
        md.AppendLine();
        md.AppendLine(C, $"- Machine: {m.Cpu}, {m.LogicalCpus} logical CPUs, Linux {m.Kernel}; {m.DotnetRuntime}; node {m.Node}; {m.Python}; {m.Gcc}");
        md.AppendLine(C, $"- Commit {m.Commit}, started {m.StartedUtc:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(C, $"- {s.Rounds} interleaved round(s); each fresh server process first gets {s.ServerWarmupSeconds} s of the headline load (figures discarded); per run {s.WarmupSeconds} s warm-up then a {s.WindowSeconds} s window; " +
            $"server on CPU {s.ServerCpu}, client on CPU {s.ClientCpu} (taskset); every .NET server with DOTNET_gcServer=0, DOTNET_gcConcurrent=1");
        md.AppendLine("- Cells: median [min–max] over the rounds. **Server CPU µs/msg** = server utime+stime over the window " +
            "(/proc/PID/stat) / messages echoed: the primary figure. MB/s: echoed payload, one direction. " +
            "Client CPU near 100% flags a client-bound run; other CPU is what the rest of the machine (kernel interrupt work included) used in the window, a noise gauge: " +
            $"a run above {s.MaxOtherPercent}% was repeated up to {s.Retries} time(s), keeping the quietest attempt. Alloc B/msg and work items/msg: .NET servers only (stats hook).");
        var gcModes = report.Runs.Select(r => r.Result?.ServerGC).OfType<bool>().Distinct().ToList();
        if (gcModes.Count > 0)
        {
            md.AppendLine(C, $"- GC mode reported by the .NET servers: {string.Join(", ", gcModes.Select(g => g ? "server" : "workstation"))}");
        }

        md.AppendLine();
        AppendHeadline(md, report);
        foreach (var scenario in report.Scenarios)
        {
            var rows = report.Summaries.Where(x => x.Scenario == scenario.Name).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            md.AppendLine(C, $"## {scenario.Title} (`{scenario.Name}`)");
            md.AppendLine();
            md.AppendLine("| server | server CPU µs/msg | msgs/s | MB/s | p50 µs | p99 µs | p99.9 µs | server CPU % | client CPU % | other CPU % | alloc B/msg | work items/msg |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var r in rows)
            {
                var failures = r.Failures > 0 ? $" ({r.Failures}/{r.Runs} failed)" : "";
                md.AppendLine(C, $"| {r.Server}{failures} | {Cell(r.ServerCpuMicrosecondsPerMessage, "F2")} | {Cell(r.MessagesPerSecond, "N0")} | " +
                    $"{Cell(r.MegabytesPerSecond, "F1")} | {Cell(r.P50Microseconds, "F0")} | {Cell(r.P99Microseconds, "F0")} | " +
                    $"{Cell(r.P999Microseconds, "F0")} | {Cell(r.ServerCpuPercent, "F0")} | {Cell(r.ClientCpuPercent, "F0")} | {Cell(r.OtherCpuPercent, "F0")} | " +
                    $"{Cell(r.AllocatedBytesPerMessage, "F1")} | {Cell(r.WorkItemsPerMessage, "F2")} |");
            }

            md.AppendLine();
        }

        AppendMemory(md, report);
        var failed = report.Runs.Where(r => r.Error is not null).ToList();
        if (failed.Count > 0 || report.Skipped.Count > 0)
        {
            md.AppendLine("## Failures and skips");
            md.AppendLine();
            foreach (var r in failed)
            {
                md.AppendLine(C, $"- round {r.Round} {r.Server} {r.Scenario}: {r.Error}");
            }

            foreach (var skip in report.Skipped)
            {
                md.AppendLine(C, $"- skipped {skip}");
            }

            md.AppendLine();
        }

        md.AppendLine("## Servers");
        md.AppendLine();
        foreach (var server in report.Servers)
        {
            md.AppendLine(C, $"- `{server.Name}`: {server.Description}");
        }

        return md.ToString();
    }

    private static void AppendHeadline(StringBuilder md, RunReport report)
    {
        var rows = report.Summaries.Where(x => x.Scenario == Headline).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        double? Cpu(string server) => rows.FirstOrDefault(r => r.Server == server)?.ServerCpuMicrosecondsPerMessage?.Median;
        double? Rate(string server) => rows.FirstOrDefault(r => r.Server == server)?.MessagesPerSecond?.Median;
        var epoll = Cpu("epoll-c");
        var node = Cpu("node");
        var asyncio = Rate("asyncio");
        md.AppendLine(C, $"## Headline: 1 KiB line echo, c=10, thread-per-connection client (`{Headline}`)");
        md.AppendLine();
        // The multi-threaded C floor gets its column only in runs that include it.
        var epollMt = Cpu("epoll-c-mt");
        var mtHeader = epollMt is null ? "" : " ÷ epoll-c-mt |";
        md.AppendLine(C, $"| server | server CPU µs/msg | ÷ epoll-c |{mtHeader} ÷ node | msgs/s | ÷ asyncio msgs/s |");
        md.AppendLine("|---|---|---|" + (epollMt is null ? "" : "---|") + "---|---|---|");
        foreach (var r in rows)
        {
            var cpu = r.ServerCpuMicrosecondsPerMessage?.Median;
            var rate = r.MessagesPerSecond?.Median;
            var mtCell = epollMt is null ? "" : $" {Ratio(cpu, epollMt)} |";
            md.AppendLine(C, $"| {r.Server} | {Cell(r.ServerCpuMicrosecondsPerMessage, "F2")} | {Ratio(cpu, epoll)} |{mtCell} {Ratio(cpu, node)} | " +
                $"{Cell(r.MessagesPerSecond, "N0")} | {Ratio(rate, asyncio)} |");
        }

        md.AppendLine();
    }

    private static void AppendMemory(StringBuilder md, RunReport report)
    {
        if (report.Memory.Count == 0)
        {
            return;
        }

        md.AppendLine(C, $"## Idle memory: {report.Settings.IdleConnections} connections after one 1 KiB echo each");
        md.AppendLine();
        md.AppendLine("| server | ΔRSS per connection | Δanonymous memory (RssAnon; .NET: after the GC decommits) | Δmanaged heap per connection | seconds to open | errors |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in report.Memory)
        {
            var i = r.Idle;
            md.AppendLine(C, $"| {r.Server} | {Bytes(i?.RssBytesPerConnection)} | {Bytes(i?.AnonymousBytesPerConnection)} | {Bytes(i?.HeapBytesPerConnection)} | " +
                $"{i?.SecondsToOpen:F2} | {r.IdleError ?? string.Join("; ", i?.Errors ?? [])} |");
        }

        md.AppendLine();
        md.AppendLine(C, $"## Slow reader: one connection sends up to {report.Settings.SlowReaderMegabytes} MB and never reads");
        md.AppendLine();
        md.AppendLine("| server | MB the server took | stalled (flow control) | server RSS growth (peak) | managed heap held | alive after | errors |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in report.Memory)
        {
            var x = r.SlowReader;
            md.AppendLine(C, $"| {r.Server} | {x?.BytesAccepted / 1e6:F1} | {(x is null ? "-" : x.Stalled ? "yes" : "no")} | " +
                $"{Bytes(x?.RssGrowthBytes)} | {Bytes(x?.HeapHeldBytes)} | {(x is null ? "-" : x.ServerAliveAfter ? "yes" : "no")} | " +
                $"{r.SlowReaderError ?? string.Join("; ", x?.Errors ?? [])} |");
        }

        md.AppendLine();
    }

    private static string Cell(Spread? spread, string format)
    {
        if (spread is null)
        {
            return "-";
        }

        var median = spread.Median.ToString(format, C);
        return spread.Count == 1 ? median : $"{median} [{spread.Min.ToString(format, C)}–{spread.Max.ToString(format, C)}]";
    }

    private static string Ratio(double? value, double? reference) =>
        value is { } v && reference is { } r && r > 0 ? (v / r).ToString("F2", C) : "-";

    private static string Bytes(double? bytes) => bytes switch
    {
        null => "-",
        { } b when Math.Abs(b) >= 1e6 => $"{(b / 1e6).ToString("F1", C)} MB",
        { } b when Math.Abs(b) >= 10e3 => $"{(b / 1e3).ToString("F1", C)} kB",
        { } b => $"{b.ToString("F0", C)} B",
    };
}
