using System.Net;
using System.Net.Sockets;

namespace AsyncStreams.Tests;

/// <summary>Finds the peer programs the sample tests drive (curl, python3), and bounds each test in time.</summary>
internal static class SamplePeers
{
    /// <summary>The time bound of one sample test, generous for a loaded 2-core machine.</summary>
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Returns a token cancelled when the test is cancelled or after <see cref="TestTimeout"/>.</summary>
    public static CancellationTokenSource Timeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TestTimeout);
        return cts;
    }

    /// <summary>
    /// Returns the full path of <paramref name="program"/> found on PATH. When it is missing the test is
    /// skipped with the reason, except under CI=true, where a missing peer fails the test.
    /// </summary>
    public static string Require(string program)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
        if (found is not null)
            return found;

        var reason = $"{program} is not installed (not found on PATH); this test drives the sample with it.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail(reason);
        Assert.Skip(reason);
        return program;
    }

    /// <summary>
    /// Binds a socket to a free port of 127.0.0.1 without listening, so that connecting to the port is
    /// refused for as long as the socket is held (no other program can take the port meanwhile).
    /// </summary>
    public static Socket ReserveRefusingPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    /// <summary>Asserts that a sample failed with exit code 1 and exactly one line on standard error, starting with <paramref name="expectedStart"/>.</summary>
    public static void AssertOneErrorLine(SampleProcess process, int exitCode, string expectedStart)
    {
        Assert.True(exitCode == 1, $"The process exited with {exitCode}, expected 1.\n{process.Describe()}");
        var lines = process.StandardError.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, $"Expected one line on standard error.\n{process.Describe()}");
        Assert.StartsWith(expectedStart, lines[0], StringComparison.Ordinal);
    }

    /// <summary>Starts a python3 script given as text, with its arguments.</summary>
    public static SampleProcess StartPython(string script, params string[] args) =>
        SampleProcess.Start(Require("python3"), ["-c", script, .. args]);
}
