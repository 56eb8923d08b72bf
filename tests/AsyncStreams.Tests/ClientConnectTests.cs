using System.Net;
using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class ClientConnectTests
{
    [Fact]
    public async Task OpenConnectionAsync_NothingListening_ThrowsConnectionRefused()
    {
        using var cts = Bounded();
        int port;
        using (Socket listener = Listen())
        {
            port = listener.Port();
        }

        var error = await Assert.ThrowsAsync<SocketException>(() => Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: cts.Token));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task OpenConnectionAsync_Canceled_ThrowsOperationCanceledException()
    {
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();
        using Socket listener = Listen();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", listener.Port(), cancellationToken: canceled.Token));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public async Task OpenConnectionAsync_BadPort_ThrowsArgumentOutOfRange(int port)
        => await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", port, cancellationToken: TestContext.Current.CancellationToken));

    [Fact]
    public async Task OpenConnectionAsync_BadArguments_ThrowTypedExceptions()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await Assert.ThrowsAsync<ArgumentException>(() => Streams.OpenConnectionAsync("", 80, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Streams.OpenConnectionAsync(null!, 80, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Streams.OpenConnectionAsync("127.0.0.1", 80, ssl: null!, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { Limit = 0 }, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { WriteHighWaterMark = 10, WriteLowWaterMark = 20 }, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { SslHandshakeTimeout = TimeSpan.Zero }, cancellationToken: ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Streams.OpenUnixConnectionAsync("", cancellationToken: ct));
    }

    [Fact]
    public async Task OpenConnectionAsync_LocalEndPoint_BindsFirst()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var local = new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0);
        Task<Socket> accept = listener.AcceptAsync(cts.Token).AsTask();
        var (_, writer) = await Streams.OpenConnectionAsync(
            "127.0.0.1", listener.Port(), options: new ConnectionOptions { LocalEndPoint = local }, cancellationToken: cts.Token);
        using Socket peer = await accept;

        var sockname = Assert.IsType<IPEndPoint>(writer.LocalEndPoint);
        Assert.Equal(local.Address, sockname.Address);
        Assert.Equal(sockname, peer.RemoteEndPoint);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task OpenConnectionAsync_LocalEndPointOfOtherFamily_ThrowsSocketException()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { LocalEndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 0) };
        await Assert.ThrowsAsync<SocketException>(
            () => Streams.OpenConnectionAsync("127.0.0.1", listener.Port(), options: options, cancellationToken: cts.Token));
    }

    [Fact]
    public async Task OpenConnectionAsync_Localhost_ReachesListenerBoundToIPv4Only()
    {
        using var cts = Bounded();
        using Socket listener = Listen(IPAddress.Loopback);
        Task<Socket> accept = listener.AcceptAsync(cts.Token).AsTask();
        var (reader, writer) = await Streams.OpenConnectionAsync("localhost", listener.Port(), cancellationToken: cts.Token);
        using Socket peer = await accept;

        await peer.SendAsync(Ascii("hello\n"), SocketFlags.None, cts.Token);
        Assert.Equal(Ascii("hello\n"), await reader.ReadLineAsync(cts.Token));
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)writer.RemoteEndPoint!).Address);
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task OpenConnectionAsync_NoDelayOption_ReachesSocket()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (_, writer, peer) = await ConnectAsync(listener, null, cts.Token);
        using (peer)
        {
            Assert.True(((Socket)writer.GetExtraInfo("socket")!).NoDelay);
            await writer.DisposeAsync();
        }

        var (_, writer2, peer2) = await ConnectAsync(listener, new ConnectionOptions { NoDelay = false }, cts.Token);
        using (peer2)
        {
            Assert.False(((Socket)writer2.GetExtraInfo("socket")!).NoDelay);
            await writer2.DisposeAsync();
        }
    }

    [Fact]
    public async Task OpenConnectionAsync_LimitOption_ReachesReader()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var (reader, writer, peer) = await ConnectAsync(listener, new ConnectionOptions { Limit = 100 }, cts.Token);
        using (peer)
        {
            Assert.Equal(100, reader.Limit);
            await peer.SendAsync(Payload(150), SocketFlags.None, cts.Token);
            await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();
        }
    }
}
