using AsyncStreams.Benchmarks.Client;
using AsyncStreams.Benchmarks.Harness;
using AsyncStreams.Benchmarks.Micro;
using AsyncStreams.Benchmarks.Runner;
using AsyncStreams.Benchmarks.Scenarios;
using AsyncStreams.Benchmarks.Servers;

namespace AsyncStreams.Benchmarks;

/// <summary>Entry point: one verb per tool of the benchmark suite.</summary>
internal static class Program
{
    private const string Usage =
        "AsyncStreams.Benchmarks <verb> [options]\n" +
        "  " + RunSettings.Usage + "\n" +
        "  " + LoadOptions.Usage + "\n" +
        "  idle --port P [--connections 5000] [--server-pid PID] [--stats PATH]\n" +
        "  slow-reader --port P [--megabytes 100] [--stall 3] [--server-pid PID] [--stats PATH]\n" +
        "  " + AsyncStreamsEcho.Usage + "\n" +
        "  " + HeapCensus.Usage + "\n" +
        "  " + MicroBenchmarks.Usage + "\n";

    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.Write(Usage);
            return 2;
        }

        try
        {
            var rest = args[1..];
            return args[0] switch
            {
                "client" => LoadClient.Run(CliArguments.Parse(rest)),
                "idle" => IdleMemory.Run(CliArguments.Parse(rest)),
                "slow-reader" => SlowReader.Run(CliArguments.Parse(rest)),
                "run-all" => RunAll.Run(CliArguments.Parse(rest, RunSettings.Flags)),
                "serve" => AsyncStreamsEcho.Run(CliArguments.Parse(rest)),
                "micro" => MicroBenchmarks.Run(rest),
                "heap" => HeapCensus.Run(CliArguments.Parse(rest)),
                _ => Unknown(args[0]),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.Write(Usage);
            return 2;
        }
    }

    private static int Unknown(string verb)
    {
        Console.Error.WriteLine($"Unknown verb '{verb}'.");
        Console.Error.Write(Usage);
        return 2;
    }
}
