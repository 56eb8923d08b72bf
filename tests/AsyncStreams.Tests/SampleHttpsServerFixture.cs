using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Tests;

/// <summary>
/// Kestrel (from the Microsoft.AspNetCore.App shared framework) serving HTTPS on 127.0.0.1 with a
/// certificate issued by a test root: <c>/length</c> answers with Content-Length, <c>/chunked</c> with
/// the chunked transfer coding (several flushed writes and no length).
/// </summary>
public sealed class SampleHttpsServerFixture : IAsyncLifetime
{
    public const string LengthBody = "A body framed by Content-Length.\n";

    public static readonly string[] Chunks = ["first chunk\n", new string('m', 70_000) + "\n", "last chunk\n"];

    private readonly string _directory = Directory.CreateTempSubdirectory("asyncstreams-https-").FullName;
    private readonly SampleCertificates _certificates = SampleCertificates.Create(IPAddress.Loopback);
    private WebApplication? _app;

    /// <summary>Gets the port Kestrel listens on, on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>Gets the path of the test root certificate in PEM, for <c>--ca-file</c>.</summary>
    public string RootPemPath => Path.Combine(_directory, "root.pem");

    public async ValueTask InitializeAsync()
    {
        _certificates.WriteRootPem(RootPemPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Kestrel gives up on a handshake after 10 s by default. The handshake of a sample started cold (compiling
        // the TLS code, loading the system's roots to validate the chain) on a loaded 2-core machine can come
        // near that, so the peer waits as long as the test does: the sample's own timeouts are what is tested.
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = _certificates.Server,
                HandshakeTimeout = SamplePeers.TestTimeout,
            })));
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        Port = new Uri(_app.Urls.Single()).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        _certificates.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/plain";
        switch (context.Request.Path.Value)
        {
            case "/length":
                var body = Encoding.UTF8.GetBytes(LengthBody);
                response.ContentLength = body.Length;
                await response.Body.WriteAsync(body, context.RequestAborted);
                break;
            case "/chunked":
                foreach (var chunk in Chunks)
                {
                    await response.WriteAsync(chunk, context.RequestAborted);
                    await response.Body.FlushAsync(context.RequestAborted);
                }

                break;
            default:
                response.StatusCode = StatusCodes.Status404NotFound;
                break;
        }
    }
}
