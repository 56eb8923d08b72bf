namespace AsyncStreams.Tests;

/// <summary>EchoServer --handler-class: a callback held by an object whose state spans connections.</summary>
public class SampleEchoServerHandlerClassTests
{
    [Fact]
    public async Task EchoServer_HandlerClassTwoCurlClients_AnswersResponseDataAndCountsConnections()
    {
        var curl = SamplePeers.Require("curl");
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        await using var server = SampleProcess.StartSample("EchoServer", "--port", "0", "--handler-class");
        var endpoint = await server.WaitForServingAsync(ct);

        foreach (var message in new[] { "first", "second" })
        {
            await using var client = SampleProcess.Start(curl, ["--silent", "--show-error", $"telnet://{endpoint}"]);
            await client.WriteInputAndCloseAsync(message + "\n", ct);
            await client.AssertExitCodeAsync(0, ct);
            Assert.Equal("Response data", client.StandardOutput);
        }

        Assert.Matches(@"^Connection #1 from 127\.0\.0\.1:\d+: 'first\\n'$", await server.WaitForLineAsync(l => l.StartsWith("Connection #1 ", StringComparison.Ordinal), ct));
        Assert.Matches(@"^Connection #2 from 127\.0\.0\.1:\d+: 'second\\n'$", await server.WaitForLineAsync(l => l.StartsWith("Connection #2 ", StringComparison.Ordinal), ct));
    }
}
