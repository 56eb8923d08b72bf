using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AsyncStreams.Tests;

/// <summary>The "AsyncStreams" activity source: client connects, with the TLS handshake as a child, and server handshakes.</summary>
[Collection(ReliabilityDefinition.Name)]
public class TelemetryActivityTests
{
    [Fact]
    public async Task Activities_TlsConnect_ConnectIsParentOfClientHandshakeAndCarriesTags()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var activities = new ActivityRecorder();
        int port;
        await using (var server = await StreamServer.StartAsync(
            ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() }, cts.Token))
        {
            port = ServerTestKit.Port(server);
            var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", port, ServerTestCertificate.ClientOptions("localhost"), cancellationToken: cts.Token);
            writer.Write("traced\n"u8);
            Assert.Equal("traced\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();
        }

        var connect = Assert.Single(activities.Stopped, a => a.OperationName == "AsyncStreams.Connect");
        Assert.Equal(ActivityKind.Client, connect.Kind);
        Assert.Equal($"connect 127.0.0.1:{port}", connect.DisplayName);
        Assert.Equal(ActivityStatusCode.Unset, connect.Status);
        Assert.Equal("127.0.0.1", connect.GetTagItem("server.address"));
        Assert.Equal(port, connect.GetTagItem("server.port"));
        Assert.Equal("tcp", connect.GetTagItem("network.transport"));
        Assert.Equal(true, connect.GetTagItem("asyncstreams.tls"));
        Assert.Equal("127.0.0.1", connect.GetTagItem("network.peer.address"));

        var handshakes = activities.Stopped.Where(a => a.OperationName == "AsyncStreams.TlsHandshake").ToArray();
        var client = Assert.Single(handshakes, a => (string?)a.GetTagItem("asyncstreams.side") == "client");
        Assert.Same(connect, client.Parent);
        Assert.Equal("localhost", client.GetTagItem("server.address"));
        Assert.Matches(@"^1\.[23]$", (string?)client.GetTagItem("tls.protocol.version"));
        var serverSide = Assert.Single(handshakes, a => (string?)a.GetTagItem("asyncstreams.side") == "server");
        Assert.Null(serverSide.Parent);
        Assert.Equal(client.GetTagItem("tls.protocol.version"), serverSide.GetTagItem("tls.protocol.version"));

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Activities_ConnectRefused_MarkedAsErrorWithErrorType()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var activities = new ActivityRecorder();
        int port;
        using (var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)closed.LocalEndPoint!).Port;
        }

        var refused = await Assert.ThrowsAsync<SocketException>(() => Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: cts.Token));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        var connect = Assert.Single(activities.Stopped, a => a.OperationName == "AsyncStreams.Connect");
        Assert.Equal(ActivityStatusCode.Error, connect.Status);
        Assert.Equal("System.Net.Sockets.SocketException", connect.GetTagItem("error.type"));
        Assert.DoesNotContain(activities.Stopped, a => a.OperationName == "AsyncStreams.TlsHandshake");

        await guard.AssertCleanAsync();
    }

    [Fact]
    public async Task Activities_UnixConnect_TaggedUnixWithThePath()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using var activities = new ActivityRecorder();
        var path = Path.Combine(Path.GetTempPath(), $"as-trace-{Guid.NewGuid():N}.sock");
        await using (var server = await StreamServer.StartUnixAsync(ServerTestKit.EchoLinesAsync, path, cancellationToken: cts.Token))
        {
            var (_, writer) = await Streams.OpenUnixConnectionAsync(path, cancellationToken: cts.Token);
            await writer.DisposeAsync();
        }

        var connect = Assert.Single(activities.Stopped, a => a.OperationName == "AsyncStreams.Connect");
        Assert.Equal("unix", connect.GetTagItem("network.transport"));
        Assert.Equal(path, connect.GetTagItem("server.address"));
        Assert.Null(connect.GetTagItem("server.port"));

        await guard.AssertCleanAsync();
    }
}
