using System.Net;
using System.Net.Sockets;

namespace AsyncStreams.Tests;

public class ServerBindTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task StartAsync_HostNullOrEmpty_ListensOnIPv4AndIPv6WildcardsWithOnePort(string? host)
    {
        Assert.SkipUnless(Socket.OSSupportsIPv6, "This host has no IPv6.");
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, host, 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var port = ServerTestKit.Port(server);
        Assert.NotEqual(0, port);
        Assert.Equal(
            new[] { new IPEndPoint(IPAddress.Any, port), new IPEndPoint(IPAddress.IPv6Any, port) },
            server.EndPoints.Cast<IPEndPoint>().OrderBy(e => e.AddressFamily));

        // Each family is served by its own socket (IPV6_V6ONLY), reached here through its loopback address.
        await AssertEchoesAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
        await AssertEchoesAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), cts.Token);
    }

    [Fact]
    public async Task StartAsync_Localhost_ListensOnBothLoopbacksWithOnePort()
    {
        Assert.SkipUnless(Socket.OSSupportsIPv6, "This host has no IPv6.");
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "localhost", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var port = ServerTestKit.Port(server);
        var addresses = server.EndPoints.Cast<IPEndPoint>().Select(e => e.Address).ToArray();
        Assert.Contains(IPAddress.Loopback, addresses);
        Assert.Contains(IPAddress.IPv6Loopback, addresses);
        Assert.All(addresses, a => Assert.True(IPAddress.IsLoopback(a)));

        await AssertEchoesAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
        await AssertEchoesAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), cts.Token);
        var (reader, writer) = await Streams.OpenConnectionAsync("localhost", port, cancellationToken: cts.Token);
        writer.Write("by name\n"u8);
        Assert.Equal("by name\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task StartAsync_IPv6Literal_ListensOnThatAddressOnly()
    {
        Assert.SkipUnless(Socket.OSSupportsIPv6, "This host has no IPv6.");
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "::1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var endPoint = Assert.IsType<IPEndPoint>(Assert.Single(server.EndPoints));
        Assert.Equal(IPAddress.IPv6Loopback, endPoint.Address);
        await AssertEchoesAsync(endPoint, cts.Token);
    }

    [Fact]
    public async Task StartAsync_PortTakenWithoutReusePort_ThrowsAddressAlreadyInUse()
    {
        using var cts = ServerTestKit.Timeout();
        var first = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(first);

        // ReuseAddress is on by default; it must not let a second listener share the port (only SO_REUSEPORT does).
        var taken = await Assert.ThrowsAsync<SocketException>(
            () => StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", ServerTestKit.Port(first), cancellationToken: cts.Token));
        Assert.Equal(SocketError.AddressAlreadyInUse, taken.SocketErrorCode);
    }

    [Fact]
    public async Task StartAsync_ReusePort_TwoServersShareOnePortAndBothServe()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD(), "SO_REUSEPORT is a Unix option.");
        using var cts = ServerTestKit.Timeout();
        var options = new StreamServerOptions { ReusePort = true };
        var first = await StreamServer.StartAsync(Tagged("A"), "127.0.0.1", 0, options, cts.Token);
        await using var firstGuard = ServerTestKit.Guard(first);
        var port = ServerTestKit.Port(first);
        var second = await StreamServer.StartAsync(Tagged("B"), "127.0.0.1", port, options, cts.Token);
        await using var secondGuard = ServerTestKit.Guard(second);

        Assert.Equal(port, ServerTestKit.Port(second));

        // The kernel spreads connections over both listeners by their addresses: with 20 source ports, the chance
        // that one listener gets them all is about one in a million.
        var tags = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            using var client = await ServerTestKit.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            tags.Add(System.Text.Encoding.ASCII.GetString(await ServerTestKit.ReceiveToEndAsync(client, cts.Token)));
        }

        Assert.Equal(new HashSet<string> { "A", "B" }, tags);

        // With one of them closed, the other serves every connection.
        first.Close();
        using var last = await ServerTestKit.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
        Assert.Equal("B"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(last, cts.Token));

        static Func<StreamReader, StreamWriter, Task> Tagged(string tag) => (reader, writer) =>
        {
            writer.Write(System.Text.Encoding.ASCII.GetBytes(tag));
            return Task.CompletedTask;
        };
    }

    [Fact]
    public async Task StartAsync_PreBoundSocketNotListening_ListensServesAndClosesIt()
    {
        using var cts = ServerTestKit.Timeout();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var endPoint = (IPEndPoint)socket.LocalEndPoint!;

        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, socket, cancellationToken: cts.Token);
        await using (ServerTestKit.Guard(server))
        {
            Assert.Equal(endPoint, Assert.Single(server.EndPoints));
            await AssertEchoesAsync(endPoint, cts.Token);
        }

        // The server owns the socket: its close closed it.
        Assert.True(socket.SafeHandle.IsClosed);
    }

    [Fact]
    public async Task StartAsync_PreBoundSocketAlreadyListening_Serves()
    {
        using var cts = ServerTestKit.Timeout();
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        if (!Socket.OSSupportsIPv6)
        {
            socket.Dispose();
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        }

        socket.Bind(new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        socket.Listen(5);

        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, socket, new StreamServerOptions { StartServing = false }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        Assert.False(server.IsServing);
        server.StartServing();
        await AssertEchoesAsync((IPEndPoint)socket.LocalEndPoint!, cts.Token);
    }

    [Fact]
    public async Task StartAsync_PreBoundSocketInvalid_ThrowsArgumentException()
    {
        using var unbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<ArgumentException>(() => StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, unbound, cancellationToken: TestContext.Current.CancellationToken));

        using var datagram = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        datagram.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await Assert.ThrowsAsync<ArgumentException>(() => StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, datagram, cancellationToken: TestContext.Current.CancellationToken));

        var disposed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        disposed.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, disposed, cancellationToken: TestContext.Current.CancellationToken));
    }

    private static async Task AssertEchoesAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        using var client = await ServerTestKit.ConnectAsync(endPoint, cancellationToken);
        await ServerTestKit.SendAsync(client, "ping\n", cancellationToken);
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("ping\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(client, cancellationToken));
    }
}
