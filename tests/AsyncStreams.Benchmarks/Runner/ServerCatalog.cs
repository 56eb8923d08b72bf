namespace AsyncStreams.Benchmarks.Runner;

/// <summary>How to start one server in one mode.</summary>
internal sealed record ServerCommand(string FileName, IReadOnlyList<string> Arguments);

/// <summary>
/// A server under test. Every server echoes lines (mode "line") or whatever it reads (mode "read"),
/// listens on 127.0.0.1 only with TCP_NODELAY, and takes the port on its command line.
/// </summary>
internal sealed record ServerSpec(
    string Name,
    string Description,
    bool IsDotNet,
    IReadOnlyDictionary<string, string> Environment,
    Func<string, int, ServerCommand> Command,
    Func<string, string?> MissingReason);

/// <summary>The servers a run compares, in report order.</summary>
internal static class ServerCatalog
{
    /// <summary>Lets a forgotten baseline server end itself; the runner stops each one long before.</summary>
    private const string Lifetime = "3600";

    /// <summary>The longest line every server accepts (1 MiB), so that 100 KiB lines fit everywhere.</summary>
    private const string LineLimit = "1048576";

    public const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>AsyncStreams' opt-out of its Linux event loop (receives then wait on the runtime's socket engine).</summary>
    public const string EventLoopSwitch = "ASYNCSTREAMS_USE_EVENT_LOOP";

    /// <summary>
    /// The GC's large-object threshold (hexadecimal bytes): arrays of at least this size go to the large object heap,
    /// which only full collections reclaim. The runtime's default is 85,000 bytes.
    /// </summary>
    public const string LargeObjectThreshold = "DOTNET_GCLOHThreshold";

    private static readonly Dictionary<string, string> NoEnvironment = [];
    private static readonly Dictionary<string, string> NoEventLoop = new() { [EventLoopSwitch] = "0" };
    private static readonly Dictionary<string, string> Inline = new() { [InlineCompletions] = "1" };
    private static readonly Dictionary<string, string> LargeLines = new() { [LargeObjectThreshold] = "0x40000" };

    public static IReadOnlyList<ServerSpec> Build(RunSettings settings, string dotnet)
    {
        var scripts = Path.Combine(settings.Root, "benchmarks", "servers");
        var artifacts = settings.Artifacts;
        var epoll = Path.Combine(artifacts, "epoll_echo");
        var node = Which("node");
        var python = Which("python3");
        var pipelines = Path.Combine(artifacts, "PipelinesEcho", "PipelinesEcho.dll");
        var kestrel = Path.Combine(artifacts, "KestrelEcho", "KestrelEcho.dll");
        var sample = Path.Combine(artifacts, "EchoServer", "EchoServer.dll");
        var bench = typeof(ServerCatalog).Assembly.Location;
        var asyncStreamsSource = File.Exists(sample)
            ? "line: samples/EchoServer --persistent --limit 1048576; read: the benchmark's serve verb"
            : "samples/EchoServer was not built: line and read both by the benchmark's serve verb, whose line loop is the sample's";

        static List<string> Common(string mode, int port) =>
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mode", mode, "--limit", LineLimit, "--lifetime", Lifetime];

        string? Missing(string path, string what) => File.Exists(path) ? null : $"{what} not found at {path} (benchmarks/run.sh builds it)";

        ServerCommand AsyncStreamsCommand(string mode, int port) => mode == "line" && File.Exists(sample)
            ? new ServerCommand(dotnet, [sample, "--persistent", "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--limit", LineLimit])
            : new ServerCommand(dotnet, [bench, "serve", .. Common(mode, port)]);

        return
        [
            new("epoll-c", "single-threaded C epoll, one recv + one send per message (the floor)", false, NoEnvironment,
                (mode, port) => new ServerCommand(epoll, Common(mode, port)), _ => Missing(epoll, "epoll_echo")),
            new("epoll-c-mt", "the same C server with one extra thread that only sleeps: the floor for a multi-threaded process, as every .NET process is", false, NoEnvironment,
                (mode, port) => new ServerCommand(epoll, [.. Common(mode, port), "--idle-threads", "1"]), _ => Missing(epoll, "epoll_echo")),
            new("node", "Node net", false, NoEnvironment,
                (mode, port) => new ServerCommand(node ?? "node", [Path.Combine(scripts, "node_echo.js"), .. Common(mode, port)]),
                _ => node is null ? "node is not installed" : null),
            new("asyncio", "CPython asyncio streams, await drain()", false, NoEnvironment,
                (mode, port) => new ServerCommand(python ?? "python3", [Path.Combine(scripts, "asyncio_echo.py"), .. Common(mode, port)]),
                _ => python is null ? "python3 is not installed" : null),
            new("asyncio-nodrain", "CPython asyncio streams, no drain()", false, NoEnvironment,
                (mode, port) => new ServerCommand(python ?? "python3", [Path.Combine(scripts, "asyncio_echo.py"), "--no-drain", .. Common(mode, port)]),
                _ => python is null ? "python3 is not installed" : null),
            new("pipelines", "hand-written Socket + System.IO.Pipelines", true, NoEnvironment,
                (mode, port) => new ServerCommand(dotnet, [pipelines, .. Common(mode, port)]), _ => Missing(pipelines, "PipelinesEcho")),
            new("pipelines-inline", $"hand-written Socket + System.IO.Pipelines, {InlineCompletions}=1", true, Inline,
                (mode, port) => new ServerCommand(dotnet, [pipelines, .. Common(mode, port)]), _ => Missing(pipelines, "PipelinesEcho")),
            new("kestrel", "Kestrel ConnectionHandler", true, NoEnvironment,
                (mode, port) => new ServerCommand(dotnet, [kestrel, .. Common(mode, port)]), _ => Missing(kestrel, "KestrelEcho")),
            new("kestrel-inline", $"Kestrel ConnectionHandler, {InlineCompletions}=1", true, Inline,
                (mode, port) => new ServerCommand(dotnet, [kestrel, .. Common(mode, port)]), _ => Missing(kestrel, "KestrelEcho")),
            new("asyncstreams", $"AsyncStreams with its defaults ({asyncStreamsSource})", true, NoEnvironment,
                AsyncStreamsCommand, _ => null),
            new("asyncstreams-loh", $"AsyncStreams with its defaults, in a process that raises the GC's large-object threshold to 256 KiB ({LargeObjectThreshold}=0x40000, the application's opt-in for large lines: docs/reading.md)", true, LargeLines,
                AsyncStreamsCommand, _ => null),
            new("asyncstreams-engine", $"AsyncStreams, {EventLoopSwitch}=0: its event loop off, receives wait on the runtime's socket engine as off Linux ({asyncStreamsSource})", true, NoEventLoop,
                AsyncStreamsCommand, _ => null),
        ];
    }

    /// <summary>Returns the full path of an executable found on PATH, or null.</summary>
    public static string? Which(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
