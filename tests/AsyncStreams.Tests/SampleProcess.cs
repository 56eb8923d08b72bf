using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace AsyncStreams.Tests;

/// <summary>
/// A child process of a sample test (a built sample, curl, python3...) with its output captured as it
/// arrives, so a test can wait for a line, signal the process and check its exit code. Disposing it
/// kills the process if it is still running.
/// </summary>
internal sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly MemoryStream _stdout = new();
    private readonly MemoryStream _stderr = new();
    private readonly Task _pumps;
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream, _stdout),
            PumpAsync(process.StandardError.BaseStream, _stderr));
    }

    /// <summary>Gets the operating system's id of the process.</summary>
    public int Id => _process.Id;

    /// <summary>Gets everything the process wrote to standard output so far, decoded as UTF-8.</summary>
    public string StandardOutput => Decode(_stdout);

    /// <summary>Gets everything the process wrote to standard error so far, decoded as UTF-8.</summary>
    public string StandardError => Decode(_stderr);

    /// <summary>Gets the raw bytes the process wrote to standard output so far.</summary>
    public byte[] StandardOutputBytes
    {
        get
        {
            lock (_gate)
                return _stdout.ToArray();
        }
    }

    /// <summary>Starts a built sample (EchoServer, EchoClient, HttpGetClient) with <c>dotnet sample.dll args</c>.</summary>
    public static SampleProcess StartSample(string sample, params string[] args) =>
        StartSample(sample, new Dictionary<string, string>(), args);

    /// <summary>Starts a built sample with extra environment variables.</summary>
    public static SampleProcess StartSample(string sample, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var dll = typeof(SampleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SamplePath:" + sample)?.Value;
        Assert.True(dll is not null && File.Exists(dll), $"The {sample} sample was not built next to the tests (expected at {dll}).");
        return Start(DotnetHost(), [dll, .. args], environment: environment);
    }

    /// <summary>Starts a program with its standard streams redirected.</summary>
    public static SampleProcess Start(
        string fileName, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);

        // Child programs must not inherit settings that change their output or address other hosts.
        info.Environment["PYTHONUNBUFFERED"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("http_proxy");
        info.Environment.Remove("https_proxy");
        info.Environment.Remove("HTTP_PROXY");
        info.Environment.Remove("HTTPS_PROXY");
        info.Environment.Remove("all_proxy");
        info.Environment.Remove("ALL_PROXY");
        info.Environment.Remove("ASYNCSTREAMS_USE_EVENT_LOOP");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;

        return new SampleProcess(Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start."));
    }

    /// <summary>Writes <paramref name="text"/> to the process's standard input and closes it (EOF).</summary>
    public async Task WriteInputAndCloseAsync(string text, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteAsync(text.AsMemory(), cancellationToken);
        await _process.StandardInput.FlushAsync(cancellationToken);
        _process.StandardInput.Close();
    }

    /// <summary>Waits until a line of standard output satisfies <paramref name="predicate"/>, and returns it.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the message shows the output so far.</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
                changed = _changed.Task;
            var outputEnded = _pumps.IsCompleted;

            // Only complete lines count: a line is matched once its newline has arrived.
            var text = StandardOutput;
            var complete = text[..(text.LastIndexOf('\n') + 1)];
            var match = complete.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(predicate);
            if (match is not null)
                return match;
            if (outputEnded)
                throw new InvalidOperationException($"The process ended its output without the expected line.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");

            try
            {
                await changed.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException ex)
            {
                throw new OperationCanceledException($"Timed out waiting for a line.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}", ex, cancellationToken);
            }
        }
    }

    /// <summary>Waits for the <c>Serving on ...</c> line of a server sample and returns the first end point in it.</summary>
    public async Task<IPEndPoint> WaitForServingAsync(CancellationToken cancellationToken)
    {
        const string Prefix = "Serving on ";
        var line = await WaitForLineAsync(l => l.StartsWith(Prefix, StringComparison.Ordinal), cancellationToken);
        return IPEndPoint.Parse(line[Prefix.Length..].Split(", ")[0]);
    }

    /// <summary>Waits for the process to exit and its output to be read to the end; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken);
            await _pumps.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException ex)
        {
            throw new OperationCanceledException($"Timed out waiting for the process to exit.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}", ex, cancellationToken);
        }

        return _process.ExitCode;
    }

    /// <summary>Waits for the process to exit and asserts its exit code; a failure shows what the process wrote.</summary>
    public async Task AssertExitCodeAsync(int expected, CancellationToken cancellationToken)
    {
        var exitCode = await WaitForExitAsync(cancellationToken);
        Assert.True(exitCode == expected, $"The process exited with {exitCode}, expected {expected}.\n{Describe()}");
    }

    /// <summary>Describes what the process wrote so far, for assertion messages (long output keeps its end).</summary>
    public string Describe()
    {
        const int Keep = 4000;
        static string Tail(string text) => text.Length <= Keep ? text : "..." + text[^Keep..];
        return $"stdout:\n{Tail(StandardOutput)}\nstderr:\n{Tail(StandardError)}";
    }

    /// <summary>Sends a POSIX signal (e.g. <c>TERM</c>, <c>INT</c>) to the process with <c>kill</c>.</summary>
    public async Task SignalAsync(string signal, CancellationToken cancellationToken)
    {
        Assert.SkipUnless(!OperatingSystem.IsWindows(), "POSIX signals are not available on Windows.");
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-s", signal, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Kills the process if it still runs, and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
            await _pumps.WaitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // The process is gone already, or does not die within the bound: nothing more to wait for.
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>Returns the path of the dotnet host that runs the tests, or <c>dotnet</c> from PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
            return hostPath;
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    private async Task PumpAsync(Stream source, MemoryStream sink)
    {
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await source.ReadAsync(buffer)) > 0)
        {
            TaskCompletionSource changed;
            lock (_gate)
            {
                sink.Write(buffer, 0, n);
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }

        lock (_gate)
            _changed.TrySetResult();
    }

    private string Decode(MemoryStream stream)
    {
        lock (_gate)
            return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
