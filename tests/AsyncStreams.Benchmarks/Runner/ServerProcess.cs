using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Runner;

/// <summary>
/// A server started for one round and mode: pinned to the server CPU with taskset, on a free loopback
/// port, with the same GC settings and the stats hook for every .NET server. Disposing kills it.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly OutputTail _output = new();

    private ServerProcess(Process process, int port, string? statsPath, string commandLine)
    {
        _process = process;
        Port = port;
        StatsPath = statsPath;
        CommandLine = commandLine;
    }

    public int Pid => _process.Id;

    public int Port { get; }

    public string? StatsPath { get; }

    public string CommandLine { get; }

    public static ServerProcess Start(ServerSpec spec, string mode, RunSettings settings)
    {
        var port = FreePort();
        var command = spec.Command(mode, port);
        var info = new ProcessStartInfo("taskset")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = settings.Root,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(settings.ServerCpu);
        info.ArgumentList.Add(command.FileName);
        foreach (var argument in command.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // No scheduling knob leaks in from the caller's environment: a server gets only what its spec says.
        info.Environment.Remove(ServerCatalog.InlineCompletions);
        info.Environment.Remove(ServerCatalog.EventLoopSwitch);
        info.Environment.Remove(ServerCatalog.LargeObjectThreshold);
        string? statsPath = null;
        if (spec.IsDotNet)
        {
            statsPath = Path.Combine(Path.GetTempPath(), $"asyncstreams-bench-{Environment.ProcessId}-{port}.sock");
            info.Environment["DOTNET_gcServer"] = "0";
            info.Environment["DOTNET_gcConcurrent"] = "1";
            info.Environment["DOTNET_STARTUP_HOOKS"] = Path.Combine(settings.Artifacts, "StatsHook", "StatsHook.dll");
            info.Environment["ASYNCSTREAMS_BENCH_STATS"] = statsPath;
        }

        foreach (var (key, value) in spec.Environment)
        {
            info.Environment[key] = value;
        }

        var commandLine = string.Join(' ', spec.Environment.Select(kv => $"{kv.Key}={kv.Value}")
            .Append($"taskset -c {settings.ServerCpu} {command.FileName}").Concat(command.Arguments));
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {commandLine}.");
        var server = new ServerProcess(process, port, statsPath, commandLine);
        process.OutputDataReceived += (_, e) => server._output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => server._output.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            server.WaitUntilReady();
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>Throws with the server's last output lines if it has exited.</summary>
    public void EnsureAlive()
    {
        if (_process.HasExited || !ProcStat.IsAlive(Pid))
        {
            throw new InvalidOperationException($"The server exited: {_output}");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }

        _process.Dispose();
        if (StatsPath is not null)
        {
            File.Delete(StatsPath);
        }
    }

    private void WaitUntilReady()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReadyTimeout)
        {
            EnsureAlive();
            if ((StatsPath is null || File.Exists(StatsPath)) && CanConnect())
            {
                return;
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"The server did not accept connections within {ReadyTimeout.TotalSeconds} s: {_output}");
    }

    private bool CanConnect()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cts.Token).AsTask().GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Keeps the last lines a server printed, for error messages.</summary>
    private sealed class OutputTail
    {
        private readonly Queue<string> _lines = new();

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lines)
            {
                _lines.Enqueue(line);
                while (_lines.Count > 20)
                {
                    _lines.Dequeue();
                }
            }
        }

        public override string ToString()
        {
            lock (_lines)
            {
                return _lines.Count == 0 ? "(no output)" : string.Join(" | ", _lines);
            }
        }
    }
}
