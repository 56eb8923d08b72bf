using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Sockets;

namespace AsyncStreams.Tests;

/// <summary>The "AsyncStreams" meter's instruments, read with a <see cref="MeterListener"/> and checked against what happened.</summary>
[Collection(ReliabilityDefinition.Name)]
public class TelemetryMetricsTests
{
    private const string Active = "asyncstreams.server.active_connections";
    private const string Duration = "asyncstreams.server.connection.duration";
    private const string Rejected = "asyncstreams.server.rejected_connections";
    private const string Handshake = "asyncstreams.tls.handshake.duration";
    private const string Received = "asyncstreams.bytes_received";
    private const string Sent = "asyncstreams.bytes_sent";

    private static readonly (string, object) Tcp = ("network.transport", "tcp");
    private static readonly (string, object) Plain = ("asyncstreams.tls", false);
    private static readonly (string, object) Encrypted = ("asyncstreams.tls", true);
    private static readonly (string, object) ServerSide = ("asyncstreams.side", "server");
    private static readonly (string, object) ClientSide = ("asyncstreams.side", "client");

    [Fact]
    public async Task Metrics_ThreeEchoConnections_BytesConnectionsAndDurationsMatchWhatHappened()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(factory);
        var elapsed = Stopwatch.StartNew();
        long total = 0;
        var server = await StreamServer.StartAsync(
            ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { MeterFactory = factory }, cts.Token);
        var clients = new List<(StreamReader Reader, StreamWriter Writer)>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add(await Streams.OpenConnectionAsync(
                "127.0.0.1", ServerTestKit.Port(server), options: new ConnectionOptions { MeterFactory = factory }, cancellationToken: cts.Token));
        }

        // 1,000 short lines per connection, in one write: bytes are counted per receive or send call, not per line.
        foreach (var (reader, writer) in clients)
        {
            var lines = string.Concat(Enumerable.Range(0, 1000).Select(n => $"line {n:D4}\n"));
            var bytes = ConnectionTestKit.Ascii(lines);
            writer.Write(bytes);
            Assert.Equal(bytes, await reader.ReadExactlyAsync(bytes.Length, cts.Token));
            total += bytes.Length;
        }

        foreach (var (_, writer) in clients)
        {
            await writer.DisposeAsync();
        }

        await server.DisposeAsync();

        Assert.Equal(total, metrics.Sum(Received, ServerSide, Tcp, Plain));
        Assert.Equal(total, metrics.Sum(Sent, ServerSide, Tcp, Plain));
        Assert.Equal(total, metrics.Sum(Sent, ClientSide, Tcp, Plain));
        Assert.Equal(total, metrics.Sum(Received, ClientSide, Tcp, Plain));
        Assert.InRange(metrics.Of(Received).Count(m => m.Has(ServerSide)), 3, 300);

        // +1 per accepted connection, all three before the first -1, and back to 0 once all have ended.
        var running = 0.0;
        var peak = 0.0;
        foreach (var change in metrics.Of(Active))
        {
            Assert.True(change.Has(Tcp, Plain));
            running += change.Value;
            peak = Math.Max(peak, running);
        }

        Assert.Equal(3, peak);
        Assert.Equal(0, running);
        var durations = metrics.Of(Duration);
        Assert.Equal(3, durations.Count);
        Assert.All(durations, d => Assert.InRange(d.Value, 1e-6, elapsed.Elapsed.TotalSeconds));
        Assert.Empty(metrics.Of(Rejected));
        Assert.Empty(metrics.Of(Handshake));

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Metrics_ConnectionsOverMaxConnections_CountedAsRejected()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(factory);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new StreamServerOptions { MaxConnections = 1, MeterFactory = factory };
        await using (var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                entered.TrySetResult();
                await release.Task;
            },
            "127.0.0.1", 0, options, cts.Token))
        {
            using var first = await RawPeer.ConnectAsync(server, cts.Token);
            await entered.Task.WaitAsync(cts.Token);
            for (var i = 0; i < 2; i++)
            {
                using var over = await RawPeer.ConnectAsync(server, cts.Token);
                Assert.Equal(SocketError.Success, await ServerTestKit.ReceiveUntilClosedAsync(over, cts.Token));
            }

            release.TrySetResult();
        }

        Assert.Equal(2, metrics.Sum(Rejected, Tcp, Plain));
        Assert.Equal(1, metrics.Of(Active).Count(m => m.Value > 0));
        Assert.Single(metrics.Of(Duration));

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Metrics_TlsHandshakes_DurationTaggedWithVersionOrErrorType()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(factory);
        var options = new StreamServerOptions
        {
            Ssl = ServerTestCertificate.ServerOptions(),
            SslHandshakeTimeout = TimeSpan.FromSeconds(1),
            MeterFactory = factory,
        };
        string version;
        await using (var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, options, cts.Token))
        {
            var (reader, writer) = await Streams.OpenConnectionAsync(
                "127.0.0.1", ServerTestKit.Port(server), ServerTestCertificate.ClientOptions("127.0.0.1"),
                new ConnectionOptions { MeterFactory = factory }, cts.Token);
            version = writer.SslStream!.SslProtocol == System.Security.Authentication.SslProtocols.Tls13 ? "1.3" : "1.2";
            writer.Write("secret\n"u8);
            Assert.Equal("secret\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();

            using (var plaintext = await RawPeer.ConnectAsync(server, cts.Token))
            {
                await ServerTestKit.SendAsync(plaintext, "GET / HTTP/1.1\r\n\r\n", cts.Token);
                await ServerTestKit.ReceiveUntilClosedAsync(plaintext, cts.Token);
            }

            using (var silent = await RawPeer.ConnectAsync(server, cts.Token))
            {
                await ServerTestKit.ReceiveUntilClosedAsync(silent, cts.Token);
            }
        }

        var handshakes = metrics.Of(Handshake);
        Assert.Equal(4, handshakes.Count);
        Assert.Single(handshakes, h => h.Has(ClientSide, Tcp, ("tls.protocol.version", version)));
        Assert.Single(handshakes, h => h.Has(ServerSide, Tcp, ("tls.protocol.version", version)));
        Assert.Single(handshakes, h => h.Has(ServerSide, ("error.type", "System.Security.Authentication.AuthenticationException")));
        var timedOut = Assert.Single(handshakes, h => h.Has(ServerSide, ("error.type", "System.TimeoutException")));
        Assert.InRange(timedOut.Value, 0.98, 20);
        Assert.Equal(7, metrics.Sum(Received, ServerSide, Encrypted));
        Assert.Equal(7, metrics.Sum(Sent, ClientSide, Encrypted));
        Assert.Equal(3, metrics.Of(Active).Count(m => m.Value > 0 && m.Has(Tcp, Encrypted)));

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Metrics_UnixSocketConnection_TaggedUnix()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(factory);
        var path = Path.Combine(Path.GetTempPath(), $"as-metrics-{Guid.NewGuid():N}.sock");
        await using (var server = await StreamServer.StartUnixAsync(
            ServerTestKit.EchoLinesAsync, path, new StreamServerOptions { MeterFactory = factory }, cts.Token))
        {
            var (reader, writer) = await Streams.OpenUnixConnectionAsync(path, new ConnectionOptions { MeterFactory = factory }, cts.Token);
            writer.Write("over unix\n"u8);
            Assert.Equal("over unix\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();
        }

        var unix = ("network.transport", (object)"unix");
        Assert.Equal(10, metrics.Sum(Received, ServerSide, unix, Plain));
        Assert.Equal(10, metrics.Sum(Received, ClientSide, unix, Plain));
        Assert.Equal([1.0, -1.0], metrics.Of(Active).Where(m => m.Has(unix, Plain)).Select(m => m.Value));
        Assert.Single(metrics.Of(Duration), d => d.Has(unix, Plain));

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Metrics_NoMeterFactory_SharedMeterNamedAsyncStreamsPublishesEveryInstrument()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var metrics = new MetricsRecorder(scope: null);
        await using (var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token))
        {
            var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
            writer.Write("shared\n"u8);
            Assert.Equal("shared\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();
        }

        var expected = new Dictionary<string, (string Unit, Type Kind)>
        {
            [Active] = ("{connection}", typeof(UpDownCounter<long>)),
            [Duration] = ("s", typeof(Histogram<double>)),
            [Rejected] = ("{connection}", typeof(Counter<long>)),
            [Handshake] = ("s", typeof(Histogram<double>)),
            [Received] = ("By", typeof(Counter<long>)),
            [Sent] = ("By", typeof(Counter<long>)),
        };
        foreach (var (name, (unit, kind)) in expected)
        {
            var instrument = Assert.Contains(name, metrics.Instruments);
            Assert.Equal(unit, instrument.Unit);
            Assert.IsType(kind, instrument);
            Assert.False(string.IsNullOrEmpty(instrument.Description));
        }

        Assert.Equal(7, metrics.Sum(Received, ServerSide));
        Assert.Equal(7, metrics.Sum(Received, ClientSide));

        await guard.AssertCleanAsync();
    }
}
