using System.Diagnostics;
using System.Text;

namespace AsyncStreams.Tests;

/// <summary>Finds and runs peer programs this project did not write (python3, openssl).</summary>
internal sealed class InteropPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private InteropPeer(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
    }

    public System.IO.StreamWriter Input => _process.StandardInput;

    public System.IO.StreamReader Output => _process.StandardOutput;

    public string Errors
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Returns the full path of <paramref name="program"/>, or skips the test (fails it when CI=true) if it is not installed.</summary>
    public static string Require(string program)
    {
        var path = Find(program);
        if (path is null)
        {
            var reason = $"{program} is not installed; this interop test needs it.";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(reason);
            }

            Assert.Skip(reason);
        }

        return path;
    }

    public static InteropPeer Start(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Peers must not pick up a proxy or any other address than the loopback the test gives them.
        info.Environment.Remove("http_proxy");
        info.Environment.Remove("https_proxy");
        info.Environment["PYTHONUNBUFFERED"] = "1";
        return new InteropPeer(Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start."));
    }

    /// <summary>Reads one line of the peer's output, failing with its stderr at EOF.</summary>
    public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = await Output.ReadLineAsync(cancellationToken);
        Assert.True(line is not null, "The peer ended its output early. stderr:\n" + Errors);
        return line;
    }

    /// <summary>Waits for the peer to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        _process.Dispose();
    }

    private static string? Find(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in OperatingSystem.IsWindows() ? new[] { program + ".exe", program } : [program])
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
