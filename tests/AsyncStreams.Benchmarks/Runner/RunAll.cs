using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AsyncStreams.Benchmarks.Client;
using AsyncStreams.Benchmarks.Harness;
using AsyncStreams.Benchmarks.Scenarios;

namespace AsyncStreams.Benchmarks.Runner;

/// <summary>
/// Runs every scenario against every server: R interleaved rounds (each round visits every server, in a
/// rotated order), a fresh server per round and mode, server pinned to one CPU and client to another,
/// then the memory scenarios once per server. Writes results.json and results.md and prints the tables.
/// </summary>
internal static class RunAll
{
    public static int Run(CliArguments line)
    {
        var settings = RunSettings.Parse(line);
        var list = line.Flag("list");
        line.RejectUnknown();
        var servers = Select(ServerCatalog.Build(settings, ChildProcess.DotnetHost), settings.Servers, s => s.Name, "server");
        var scenarios = Select(Scenario.All, settings.Scenarios, s => s.Name, "scenario");
        if (list)
        {
            foreach (var s in ServerCatalog.Build(settings, ChildProcess.DotnetHost))
            {
                Console.WriteLine($"server   {s.Name,-20} {s.Description}");
            }

            foreach (var s in Scenario.All)
            {
                Console.WriteLine($"scenario {s.Name,-20} {s.Title}");
            }

            return 0;
        }

        Directory.CreateDirectory(settings.OutputDirectory);
        var machine = Machine.Describe(settings.Root);
        var perRun = settings.WarmupSeconds + settings.WindowSeconds + 1;
        Log($"{servers.Count} servers x {scenarios.Count} scenarios x {settings.Rounds} rounds, about " +
            $"{servers.Count * scenarios.Count * settings.Rounds * perRun / 60:F0} min of load; results in {settings.OutputDirectory}");

        var runs = new List<RunRecord>();
        var skipped = new List<string>();
        for (var round = 1; round <= settings.Rounds; round++)
        {
            for (var i = 0; i < servers.Count; i++)
            {
                var server = servers[(i + round - 1) % servers.Count];
                foreach (var mode in scenarios.Select(s => s.Mode).Distinct())
                {
                    RunServer(settings, server, mode, round, scenarios.Where(s => s.Mode == mode).ToList(), runs, skipped);
                }
            }
        }

        var memory = new List<MemoryRecord>();
        if (settings.Memory)
        {
            foreach (var server in servers.Where(s => s.MissingReason("line") is null))
            {
                memory.Add(RunMemory(settings, server));
            }
        }

        var summaries = (from scenario in scenarios
                         from server in servers
                         let records = runs.Where(r => r.Scenario == scenario.Name && r.Server == server.Name).ToList()
                         where records.Count > 0
                         select Summary.Of(scenario.Name, server.Name, records)).ToList();
        var report = new RunReport(
            machine, settings,
            servers.Select(s => new ServerDescription(s.Name, s.Description, s.IsDotNet, s.Environment)).ToList(),
            scenarios, summaries, memory, runs, skipped.Distinct().ToList());
        var markdown = Report.Markdown(report);
        File.WriteAllText(Path.Combine(settings.OutputDirectory, "results.json"), JsonSerializer.Serialize(report, Indented));
        File.WriteAllText(Path.Combine(settings.OutputDirectory, "results.md"), markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Log($"wrote {Path.Combine(settings.OutputDirectory, "results.md")} and results.json");
        return runs.Any(r => r.Error is not null) ? 1 : 0;
    }

    private static readonly JsonSerializerOptions Indented = new(LoadClient.Json) { WriteIndented = true };

    private static void RunServer(
        RunSettings settings, ServerSpec spec, string mode, int round, List<Scenario> scenarios, List<RunRecord> runs, List<string> skipped)
    {
        if (spec.MissingReason(mode) is { } reason)
        {
            skipped.Add($"{spec.Name} ({mode}): {reason}");
            Log($"round {round} {spec.Name} {mode}: skipped, {reason}");
            return;
        }

        ServerProcess server;
        try
        {
            server = ServerProcess.Start(spec, mode, settings);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            foreach (var scenario in scenarios)
            {
                runs.Add(new RunRecord(spec.Name, scenario.Name, round, "", 0, 1, null, $"server did not start: {e.Message}"));
            }

            Log($"round {round} {spec.Name} {mode}: server did not start: {e.Message}");
            return;
        }

        using (server)
        {
            WarmUp(settings, spec, server, round);
            foreach (var scenario in scenarios)
            {
                runs.Add(RunScenario(settings, spec, server, scenario, round));
            }
        }
    }

    /// <summary>
    /// Loads a fresh server process with the headline load for --server-warmup seconds before its first scenario, and
    /// discards the figures: the runtimes that compile in tiers (.NET, V8) reach their steady code only after a few
    /// seconds of load, and each scenario's own warm-up is too short for the first scenario to measure steady state.
    /// Every server gets the same warm-up.
    /// </summary>
    private static void WarmUp(RunSettings settings, ServerSpec spec, ServerProcess server, int round)
    {
        if (settings.ServerWarmupSeconds <= 0)
        {
            return;
        }

        var arguments = ClientArguments(server, Scenario.All[0], settings.ServerWarmupSeconds, 0.2);
        try
        {
            server.EnsureAlive();
            ChildProcess.RunVerb(settings.ClientCpu, arguments, TimeSpan.FromSeconds(settings.ServerWarmupSeconds + 90));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // The scenarios that follow report the server's failure with the details.
            Log($"round {round} {spec.Name}: warm-up failed: {e.Message}");
        }
    }

    /// <summary>The load client's command line for <paramref name="scenario"/> against <paramref name="server"/>.</summary>
    private static List<string> ClientArguments(ServerProcess server, Scenario scenario, double warmupSeconds, double windowSeconds) =>
    [
        "client", "--port", Invariant(server.Port), "--loop", scenario.Loop.ToString().ToLowerInvariant(),
        "--io", scenario.Io.ToString().ToLowerInvariant(), "--connections", Invariant(scenario.Connections),
        "--size", Invariant(scenario.Size), "--warmup", Invariant(warmupSeconds), "--window", Invariant(windowSeconds),
    ];

    private static RunRecord RunScenario(RunSettings settings, ServerSpec spec, ServerProcess server, Scenario scenario, int round)
    {
        var arguments = ClientArguments(server, scenario, settings.WarmupSeconds, settings.WindowSeconds);
        arguments.AddRange(["--server-pid", Invariant(server.Pid)]);
        if (scenario.Loop == LoadLoop.Open)
        {
            arguments.AddRange(["--rate", Invariant(settings.OpenLoopRate)]);
        }

        if (scenario.Loop == LoadLoop.Pipelined)
        {
            arguments.AddRange(["--depth", Invariant(scenario.Depth)]);
        }

        if (server.StatsPath is not null)
        {
            arguments.AddRange(["--stats", server.StatsPath]);
        }

        var label = $"round {round} {spec.Name,-19} {scenario.Name,-19}";
        RunRecord? best = null;
        for (var attempt = 1; attempt <= 1 + settings.Retries; attempt++)
        {
            var record = Attempt(settings, spec, server, arguments, label, round, scenario, attempt);
            if (best is null || (record.Result is { } r && (best.Result is null || r.OtherCpuPercent < best.Result.OtherCpuPercent)))
            {
                best = record;
            }

            // A run during which the rest of the machine was busy is repeated: its figures measure the
            // contention as much as the server.
            if (record.Result is null || record.Result.OtherCpuPercent <= settings.MaxOtherPercent)
            {
                break;
            }

            if (attempt <= settings.Retries)
            {
                Log($"{label} noisy ({record.Result.OtherCpuPercent:F0}% of a core used elsewhere), repeating");
            }
        }

        return best!;
    }

    private static RunRecord Attempt(
        RunSettings settings, ServerSpec spec, ServerProcess server, List<string> arguments, string label, int round, Scenario scenario, int attempt)
    {
        var busy = WaitForQuiet(settings, label);
        try
        {
            server.EnsureAlive();
            var timeout = TimeSpan.FromSeconds(settings.WarmupSeconds + settings.WindowSeconds + 90);
            var json = ChildProcess.RunVerb(settings.ClientCpu, arguments, timeout);
            var result = JsonSerializer.Deserialize<LoadResult>(json, LoadClient.Json)
                ?? throw new InvalidOperationException("The client printed no result.");
            var error = result.Errors.Count > 0 ? string.Join("; ", result.Errors) : null;
            Log($"{label} {result.MessagesPerSecond,10:N0} msg/s  {result.ServerCpuMicrosecondsPerMessage,7:F2} µs/msg server  {result.ServerCpuPercent,4:F0}% server  " +
                $"{result.ClientCpuPercent,4:F0}% client  {result.OtherCpuPercent,4:F0}% other  p99 {result.Latency.P99} µs" +
                (result.AllocatedBytesPerMessage is { } a ? $"  {a:F1} B/msg" : "") + (error is null ? "" : $"  ERROR {error}"));
            return new RunRecord(spec.Name, scenario.Name, round, server.CommandLine, busy, attempt, result, error);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or JsonException)
        {
            Log($"{label} FAILED {e.Message}");
            return new RunRecord(spec.Name, scenario.Name, round, server.CommandLine, busy, attempt, null, e.Message);
        }
    }

    /// <summary>
    /// Waits (up to --quiet-wait seconds) until the rest of the machine uses at most --quiet-percent of a
    /// core, so that runs do not overlap with other work on a shared machine. Returns the last reading.
    /// </summary>
    private static double WaitForQuiet(RunSettings settings, string label)
    {
        var clock = Stopwatch.StartNew();
        var logged = false;
        while (true)
        {
            var before = ProcStat.MachineBusySeconds();
            Thread.Sleep(500);
            var busy = (ProcStat.MachineBusySeconds() - before) / 0.5 * 100;
            if (busy <= settings.QuietPercent || clock.Elapsed.TotalSeconds >= settings.QuietWaitSeconds)
            {
                if (logged || busy > settings.QuietPercent)
                {
                    Log($"{label} machine {busy:F0}% busy after waiting {clock.Elapsed.TotalSeconds:F0} s");
                }

                return busy;
            }

            if (!logged)
            {
                Log($"{label} waiting for the machine to quieten ({busy:F0}% of a core busy elsewhere)");
                logged = true;
            }

            Thread.Sleep(1000);
        }
    }

    private static MemoryRecord RunMemory(RunSettings settings, ServerSpec spec)
    {
        IdleMemoryResult? idle = null;
        SlowReaderResult? slow = null;
        string? idleError = null, slowError = null, command = null;
        try
        {
            using var server = ServerProcess.Start(spec, "line", settings);
            command = server.CommandLine;
            var arguments = new List<string>
            {
                "idle", "--port", Invariant(server.Port), "--connections", Invariant(settings.IdleConnections),
                "--server-pid", Invariant(server.Pid),
            };
            if (server.StatsPath is not null)
            {
                arguments.AddRange(["--stats", server.StatsPath]);
            }

            idle = JsonSerializer.Deserialize<IdleMemoryResult>(ChildProcess.RunVerb(settings.ClientCpu, arguments, TimeSpan.FromMinutes(5)), LoadClient.Json);
            Log($"memory {spec.Name,-19} idle: {idle?.RssBytesPerConnection:F0} B RSS/connection " +
                $"({idle?.AnonymousBytesPerConnection:F0} B anonymous), " +
                $"{(idle?.HeapBytesPerConnection is { } h ? h.ToString("F0", CultureInfo.InvariantCulture) : "-")} B heap/connection");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or JsonException)
        {
            idleError = e.Message;
            Log($"memory {spec.Name,-19} idle FAILED {e.Message}");
        }

        try
        {
            using var server = ServerProcess.Start(spec, "line", settings);
            var arguments = new List<string>
            {
                "slow-reader", "--port", Invariant(server.Port), "--megabytes", Invariant(settings.SlowReaderMegabytes),
                "--stall", Invariant(settings.SlowReaderStallSeconds), "--server-pid", Invariant(server.Pid),
            };
            if (server.StatsPath is not null)
            {
                arguments.AddRange(["--stats", server.StatsPath]);
            }

            slow = JsonSerializer.Deserialize<SlowReaderResult>(ChildProcess.RunVerb(settings.ClientCpu, arguments, TimeSpan.FromMinutes(5)), LoadClient.Json);
            Log($"memory {spec.Name,-19} slow reader: {slow?.BytesAccepted / 1e6:F1} MB accepted, server RSS +{slow?.RssGrowthBytes / 1e6:F1} MB");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or JsonException)
        {
            slowError = e.Message;
            Log($"memory {spec.Name,-19} slow reader FAILED {e.Message}");
        }

        return new MemoryRecord(spec.Name, command, idle, idleError, slow, slowError);
    }

    private static List<T> Select<T>(IReadOnlyList<T> all, IReadOnlyList<string>? names, Func<T, string> name, string what)
    {
        if (names is null)
        {
            return [.. all];
        }

        var unknown = names.Where(n => !all.Any(a => name(a) == n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown {what}(s): {string.Join(", ", unknown)}; known: {string.Join(", ", all.Select(name))}.");
        }

        return all.Where(a => names.Contains(name(a))).ToList();
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Log(string message) =>
        Console.WriteLine($"[{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {message}");

    /// <summary>Describes the machine and the tools the figures were taken with.</summary>
    private static class Machine
    {
        public static MachineInfo Describe(string root) => new(
            File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown",
            File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal)),
            File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
            System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            Tool("node", "--version"),
            Tool("python3", "--version"),
            Tool("gcc", "--version"),
            Tool("git", "-C", root, "rev-parse", "--short", "HEAD"),
            DateTime.UtcNow);

        private static string? Tool(string file, params string[] arguments)
        {
            try
            {
                var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var argument in arguments)
                {
                    info.ArgumentList.Add(argument);
                }

                using var process = Process.Start(info);
                if (process is null)
                {
                    return null;
                }

                var output = process.StandardOutput.ReadToEnd();
                process.WaitForExit(10_000);
                return output.Split('\n')[0].Trim();
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }
    }
}
