namespace AsyncStreams.Benchmarks.Client;

/// <summary>What one load-client run measured over its window.</summary>
/// <remarks>
/// MegabytesPerSecond counts the echoed payload in one direction (10^6 bytes). CPU percentages are of one
/// core. OtherCpuPercent is the CPU the rest of the machine used in the window (kernel interrupt work
/// included): a noise gauge, high when other programs ran during the measurement. Server figures come from /proc/PID/stat; allocation and GC figures from the .NET stats channel
/// (null for servers without one).
/// </remarks>
internal sealed record LoadResult(
    string Loop,
    string Io,
    int Connections,
    int Size,
    double Rate,
    int Depth,
    double WindowSeconds,
    long Messages,
    double MessagesPerSecond,
    double MegabytesPerSecond,
    LatencySummary Latency,
    double? ServerCpuSeconds,
    double? ServerCpuMicrosecondsPerMessage,
    double? ServerCpuPercent,
    double ClientCpuSeconds,
    double ClientCpuPercent,
    double OtherCpuPercent,
    long? ServerRssBytes,
    double? AllocatedBytesPerMessage,
    double? WorkItemsPerMessage,
    int? Gen0Collections,
    int? Gen1Collections,
    int? Gen2Collections,
    bool? ServerGC,
    IReadOnlyList<string> Errors);
