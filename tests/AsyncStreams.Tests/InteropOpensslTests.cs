using System.Globalization;

namespace AsyncStreams.Tests;

/// <summary>OpenSSL's own TLS client against our TLS server.</summary>
public sealed class InteropOpensslTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("as-ossl-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task OpensslSClient_AgainstOurTlsServer_VerifiesCertificateAndEchoes(string version)
    {
        var openssl = InteropPeer.Require("openssl");
        using var cts = ServerTestKit.Timeout(30);
        var options = new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() };
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, options, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        var pem = ServerTestCertificate.WritePem(_directory);
        var port = ServerTestKit.Port(server).ToString(CultureInfo.InvariantCulture);

        // -verify_return_error makes a certificate that does not verify against the PEM (or the name) end the client.
        await using var peer = InteropPeer.Start(
            openssl, "s_client", version, "-connect", "127.0.0.1:" + port, "-servername", "localhost",
            "-CAfile", pem, "-verify_hostname", "localhost", "-verify_return_error", "-quiet", "-no_ign_eof");
        await peer.Input.WriteAsync("hello from openssl\n".AsMemory(), cts.Token);
        await peer.Input.FlushAsync(cts.Token);
        Assert.Equal("hello from openssl", await peer.ReadLineAsync(cts.Token));

        // Closing stdin makes s_client send close_notify and exit; the server sees EOF and closes its side.
        peer.Input.Close();
        Assert.True(await peer.WaitForExitAsync(cts.Token) == 0, peer.Errors);
        server.Close();
        await server.WaitClosedAsync().WaitAsync(cts.Token);
    }
}
