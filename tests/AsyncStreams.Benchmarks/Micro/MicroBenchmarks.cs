using System.Reflection;
using AsyncStreams.Benchmarks.Harness;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace AsyncStreams.Benchmarks.Micro;

/// <summary>
/// Runs the BenchmarkDotNet micro-benchmarks (the <c>micro</c> verb). They run in-process (no generated
/// project to build), with the memory diagnoser and a MB/s column; <c>--quick</c> uses BenchmarkDotNet's
/// short run. Other arguments go to BenchmarkDotNet (e.g. <c>--filter *ReadLine*</c>); without a filter
/// every benchmark runs. Reports go to bench-results/micro.
/// </summary>
internal static class MicroBenchmarks
{
    public const string Usage = "micro [--quick] [BenchmarkDotNet options, e.g. --filter *ReadLine*]";

    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var rest = args.Where(a => a != "--quick").ToList();
        if (!rest.Contains("--filter") && !rest.Contains("-f"))
        {
            rest.AddRange(["--filter", "*"]);
        }

        if (Environment.ProcessorCount == 1)
        {
            // Seen on this project's 2-CPU machines: under taskset -c 0 the benchmark thread leaves the runtime's
            // background tier-up too little CPU in some processes, and ReadLine80B measured tier-0 code (about
            // 2 x slower) for a whole run.
            Console.Error.WriteLine(
                "warning: this process may use one CPU only; the JIT's background tier-up then competes with the " +
                "benchmark and some runs measure unoptimised code. Run the micro-benchmarks without taskset.");
        }

        var job = (quick ? Job.ShortRun : Job.Default).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(new ThroughputColumn())
            .AddExporter(MarkdownExporter.GitHub, JsonExporter.Brief)
            .WithArtifactsPath(Path.Combine(RepositoryRoot.Find(), "bench-results", "micro"));
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(MicroBenchmarks).Assembly).Run([.. rest], config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}

/// <summary>Names how many payload bytes one operation of a benchmark moves, for the MB/s column.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class BytesPerOperationAttribute(int bytes) : Attribute
{
    public int Bytes { get; } = bytes;
}

/// <summary>
/// Shows payload throughput: the bytes one operation moves (from <see cref="BytesPerOperationAttribute"/>
/// or a <c>Size</c> parameter) divided by the mean time per operation.
/// </summary>
internal sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Payload megabytes (10^6 bytes) per second";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var bytes = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerOperationAttribute>()?.Bytes
            ?? benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Size")?.Value as int?;
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return bytes is { } b && mean is { } nanoseconds && nanoseconds > 0
            ? (b / nanoseconds * 1e9 / 1e6).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
