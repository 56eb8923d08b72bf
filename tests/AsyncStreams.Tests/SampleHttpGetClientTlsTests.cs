namespace AsyncStreams.Tests;

/// <summary>HttpGetClient over HTTPS against Kestrel: Content-Length and chunked bodies, and certificate validation that stays on.</summary>
public sealed class SampleHttpGetClientTlsTests(SampleHttpsServerFixture server) : IClassFixture<SampleHttpsServerFixture>
{
    [Fact]
    public async Task HttpGetClient_HttpsContentLengthWithCaFile_PrintsHeadersAndBody()
    {
        using var timeout = SamplePeers.Timeout();
        await using var client = SampleProcess.StartSample("HttpGetClient", $"https://127.0.0.1:{server.Port}/length", "--body", "--ca-file", server.RootPemPath);

        await client.AssertExitCodeAsync(0, timeout.Token);
        var (head, body) = Split(client.StandardOutput);
        Assert.Equal("HTTP/1.1 200 OK", head[0]);
        Assert.Contains($"Content-Length: {SampleHttpsServerFixture.LengthBody.Length}", head);
        Assert.Equal(SampleHttpsServerFixture.LengthBody, body);
    }

    [Fact]
    public async Task HttpGetClient_HttpsChunkedWithCaFile_ReassemblesChunks()
    {
        using var timeout = SamplePeers.Timeout();
        await using var client = SampleProcess.StartSample("HttpGetClient", $"https://127.0.0.1:{server.Port}/chunked", "--body", "--ca-file", server.RootPemPath);

        await client.AssertExitCodeAsync(0, timeout.Token);
        var (head, body) = Split(client.StandardOutput);
        Assert.Equal("HTTP/1.1 200 OK", head[0]);
        Assert.Contains("Transfer-Encoding: chunked", head);
        Assert.DoesNotContain(head, l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(string.Concat(SampleHttpsServerFixture.Chunks), body);
    }

    [Fact]
    public async Task HttpGetClient_HttpsWithoutCaFile_RejectsUntrustedCertificateExitsOne()
    {
        using var timeout = SamplePeers.Timeout();
        await using var client = SampleProcess.StartSample("HttpGetClient", $"https://127.0.0.1:{server.Port}/length");

        SamplePeers.AssertOneErrorLine(client, await client.WaitForExitAsync(timeout.Token), $"error: TLS handshake with 127.0.0.1 port {server.Port} failed: ");
        Assert.Equal("", client.StandardOutput);
    }

    [Fact]
    public async Task HttpGetClient_HttpsHostNameNotInCertificate_RejectsEvenWithCaFile()
    {
        // The certificate names 127.0.0.1 only; trusting its issuer does not make it valid for "localhost".
        using var timeout = SamplePeers.Timeout();
        await using var client = SampleProcess.StartSample("HttpGetClient", $"https://localhost:{server.Port}/length", "--ca-file", server.RootPemPath);

        SamplePeers.AssertOneErrorLine(client, await client.WaitForExitAsync(timeout.Token), $"error: TLS handshake with localhost port {server.Port} failed: the server certificate is not valid for this host");
    }

    private static (string[] Head, string Body) Split(string output)
    {
        var split = output.IndexOf("\n\n", StringComparison.Ordinal);
        Assert.True(split > 0, output);
        return (output[..split].Split('\n'), output[(split + 2)..]);
    }
}
