using System.Text.Json;
using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>
/// The load client: connects, checks one echo per connection, loads the server through a warm-up, then
/// measures a fixed window and prints one JSON <see cref="LoadResult"/> line.
/// </summary>
internal static class LoadClient
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static int Run(CliArguments line)
    {
        var options = LoadOptions.Parse(line);
        line.RejectUnknown();
        var result = Run(options);
        Console.WriteLine(JsonSerializer.Serialize(result, Json));
        return result.Errors.Count == 0 ? 0 : 1;
    }

    public static LoadResult Run(LoadOptions options)
    {
        using Workload workload = (options.Loop, options.Io) switch
        {
            (LoadLoop.Closed, LoadIo.Threads) => new ClosedLoopThreads(options),
            (LoadLoop.Closed, LoadIo.Async) => new ClosedLoopAsync(options),
            (LoadLoop.Open, _) => new OpenLoop(options),
            _ => new Pipelined(options),
        };

        workload.Connect();
        var meter = new Meter(options.ServerPid, options.StatsPath);
        workload.Start();
        Thread.Sleep(TimeSpan.FromSeconds(options.WarmupSeconds));

        var start = meter.Read();
        var before = workload.Completed;
        workload.BeginMeasuring();
        Thread.Sleep(TimeSpan.FromSeconds(options.WindowSeconds));
        workload.Stop();
        var after = workload.Completed;
        var end = meter.Read();

        var errors = new List<string>();
        if (!workload.Join(TimeSpan.FromSeconds(20)))
        {
            errors.Add("Some connections did not finish within 20 s of the end of the window.");
        }

        errors.AddRange(workload.Errors);
        return Meter.Result(options, start, end, after - before, workload.MergedHistogram().Summarise(), errors);
    }
}
