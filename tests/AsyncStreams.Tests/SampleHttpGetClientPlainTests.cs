using System.Text;
using System.Text.RegularExpressions;

namespace AsyncStreams.Tests;

/// <summary>HttpGetClient over plain HTTP against python3's http.server, which frames bodies with Content-Length.</summary>
public sealed partial class SampleHttpGetClientPlainTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("asyncstreams-http-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task HttpGetClient_PythonHttpServerWithBody_PrintsHeadersAndExactBody()
    {
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        var content = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i} of the file served by http.server\n"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "hello.txt"), content, ct);
        await using var server = StartHttpServer();
        var port = await PortOfAsync(server, ct);

        await using var client = SampleProcess.StartSample("HttpGetClient", $"http://127.0.0.1:{port}/hello.txt", "--body");

        await client.AssertExitCodeAsync(0, ct);
        var output = client.StandardOutput;
        var split = output.IndexOf("\n\n", StringComparison.Ordinal);
        Assert.True(split > 0, output);
        var head = output[..split].Split('\n');
        Assert.Equal("HTTP/1.0 200 OK", head[0]);
        Assert.Contains($"Content-Length: {Encoding.UTF8.GetByteCount(content)}", head);
        Assert.Equal(content, output[(split + 2)..]);
    }

    [Fact]
    public async Task HttpGetClient_MissingFileWithoutBodyOption_PrintsStatusAndHeadersOnlyExitsZero()
    {
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        await using var server = StartHttpServer();
        var port = await PortOfAsync(server, ct);

        await using var client = SampleProcess.StartSample("HttpGetClient", $"http://127.0.0.1:{port}/missing.txt");

        await client.AssertExitCodeAsync(0, ct);
        var lines = client.StandardOutput.TrimEnd('\n').Split('\n');
        Assert.StartsWith("HTTP/1.0 404 ", lines[0], StringComparison.Ordinal);
        Assert.All(lines[1..], l => Assert.Matches("^[A-Za-z-]+: ", l));
        Assert.Equal("", client.StandardError);
    }

    private SampleProcess StartHttpServer() =>
        SampleProcess.Start(SamplePeers.Require("python3"), ["-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", _directory]);

    private static async Task<string> PortOfAsync(SampleProcess server, CancellationToken cancellationToken)
    {
        // http.server announces: Serving HTTP on 127.0.0.1 port 45678 (http://127.0.0.1:45678/) ...
        var line = await server.WaitForLineAsync(l => l.StartsWith("Serving HTTP on ", StringComparison.Ordinal), cancellationToken);
        return AnnouncedPort().Match(line).Groups[1].Value;
    }

    [GeneratedRegex(@" port (\d+) ")]
    private static partial Regex AnnouncedPort();
}
