using AsyncStreams.Benchmarks.Client;

namespace AsyncStreams.Benchmarks.Runner;

/// <summary>One load shape of the throughput and latency matrix, run against every server.</summary>
internal sealed record Scenario(
    string Name, string Title, string Mode, LoadLoop Loop, LoadIo Io, int Connections, int Size, int Depth = 0)
{
    /// <summary>The matrix, headline first: 1 KiB line echo, 10 connections, thread-per-connection client.</summary>
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("line-1k-c10", "Line echo, 1 KiB, c=10, closed loop, thread per connection", "line", LoadLoop.Closed, LoadIo.Threads, 10, 1024),
        new("line-1k-c100", "Line echo, 1 KiB, c=100, closed loop, thread per connection", "line", LoadLoop.Closed, LoadIo.Threads, 100, 1024),
        new("line-10k-c10", "Line echo, 10 KiB, c=10, closed loop, thread per connection", "line", LoadLoop.Closed, LoadIo.Threads, 10, 10 * 1024),
        new("line-100k-c10", "Long lines: line echo, 100 KiB, c=10, closed loop, thread per connection", "line", LoadLoop.Closed, LoadIo.Threads, 10, 100 * 1024),
        new("line-1k-c10-async", "Line echo, 1 KiB, c=10, closed loop, async client", "line", LoadLoop.Closed, LoadIo.Async, 10, 1024),
        new("line-32b-pipelined", "Line echo, 32 B, 1 connection, 1000 messages in flight", "line", LoadLoop.Pipelined, LoadIo.Threads, 1, 32, 1000),
        new("line-1k-open", "Line echo, 1 KiB, c=10, open loop at a fixed rate", "line", LoadLoop.Open, LoadIo.Threads, 10, 1024),
        new("read-1k-c10", "Read echo, 1 KiB, c=10, closed loop, thread per connection", "read", LoadLoop.Closed, LoadIo.Threads, 10, 1024),
        new("read-100k-c10", "Read echo, 100 KiB, c=10, closed loop, thread per connection", "read", LoadLoop.Closed, LoadIo.Threads, 10, 100 * 1024),
    ];
}
