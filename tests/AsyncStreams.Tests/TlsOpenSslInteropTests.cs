using System.Diagnostics;
using System.Text.RegularExpressions;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

/// <summary>This library's TLS client against <c>openssl s_server</c>, a TLS implementation it did not write.</summary>
public partial class TlsOpenSslInteropTests
{
    [GeneratedRegex(@"ACCEPT 127\.0\.0\.1:(\d+)")]
    private static partial Regex AcceptLine();

    private static string? FindOpenSsl()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, "openssl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    [Fact]
    public async Task OpenConnectionAsync_OpenSslServer_RoundTripsOverTls()
    {
        string? openssl = FindOpenSsl();
        if (openssl is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "openssl is required on CI.");
            Assert.Skip("openssl is not installed.");
        }

        using var cts = Bounded();
        TlsTestCertificates certs = TlsTestCertificates.Shared;
        string dir = Directory.CreateTempSubdirectory("asyncstreams-openssl-").FullName;
        try
        {
            string certPath = Path.Combine(dir, "cert.pem");
            string keyPath = Path.Combine(dir, "key.pem");
            await File.WriteAllTextAsync(certPath, certs.Server.ExportCertificatePem(), cts.Token);
            await File.WriteAllTextAsync(keyPath, certs.ServerKeyPem, cts.Token);

            // -rev answers every line with the line reversed; port 0 lets the kernel pick a free port.
            var start = new ProcessStartInfo(openssl, ["s_server", "-accept", "127.0.0.1:0", "-cert", certPath, "-key", keyPath, "-rev"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            using Process server = Process.Start(start)!;
            try
            {
                int port = 0;
                for (int i = 0; i < 20 && port == 0; i++)
                {
                    string? line = await server.StandardOutput.ReadLineAsync(cts.Token);
                    Assert.NotNull(line);
                    Match match = AcceptLine().Match(line);
                    if (match.Success)
                    {
                        port = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    }
                }

                Assert.NotEqual(0, port);
                var (reader, writer) = await Streams.OpenConnectionAsync(
                    "localhost", port, certs.TrustingClientOptions(), cancellationToken: cts.Token);
                Assert.NotNull(writer.SslStream);
                for (int i = 0; i < 10; i++)
                {
                    writer.Write(Ascii($"hello openssl {i}\n"));
                    await writer.DrainAsync(cts.Token);
                    Assert.Equal(Ascii($"{i} lssnepo olleh\n"), await reader.ReadLineAsync(cts.Token));
                }

                await writer.DisposeAsync().AsTask().WaitAsync(cts.Token);
            }
            finally
            {
                server.Kill();
                await server.WaitForExitAsync(cts.Token);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
