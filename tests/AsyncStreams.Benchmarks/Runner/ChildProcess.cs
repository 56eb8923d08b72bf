using System.Diagnostics;

namespace AsyncStreams.Benchmarks.Runner;

/// <summary>Runs this program's own verbs (client, idle, slow-reader) as a separate pinned process.</summary>
internal static class ChildProcess
{
    /// <summary>The dotnet host that runs this program.</summary>
    public static string DotnetHost { get; } = FindDotnetHost();

    /// <summary>Runs a verb on the client CPU and returns its last stdout line (one JSON object).</summary>
    public static string RunVerb(string cpu, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("taskset")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-c", cpu, DotnetHost, typeof(ChildProcess).Assembly.Location }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Cannot start the load client.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            process.WaitForExit(10_000);
            throw new TimeoutException($"The client did not finish within {timeout.TotalSeconds} s.");
        }

        var lines = stdout.GetAwaiter().GetResult().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || !lines[^1].StartsWith('{'))
        {
            throw new InvalidOperationException(
                $"The client exited with code {process.ExitCode} without a result: {stderr.GetAwaiter().GetResult().Trim()}");
        }

        return lines[^1];
    }

    private static string FindDotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        return ServerCatalog.Which("dotnet") ?? "dotnet";
    }
}
