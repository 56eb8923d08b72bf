using System.Net;
using System.Net.Sockets;
using AsyncStreams.Internal;

namespace AsyncStreams.Tests;

public class ServerBinderTests
{
    private const int SharedPortTakenEventId = 13;

    [Fact]
    public async Task ResolveAsync_NullEmptyLiteralAndLocalhost_GiveAsyncioAddresses()
    {
        var ct = TestContext.Current.CancellationToken;
        var wildcards = Socket.OSSupportsIPv6 ? new[] { IPAddress.Any, IPAddress.IPv6Any } : [IPAddress.Any];
        Assert.Equal(wildcards, await ServerBinder.ResolveAsync(null, ct));
        Assert.Equal(wildcards, await ServerBinder.ResolveAsync("", ct));
        Assert.Equal([IPAddress.Parse("127.0.0.3")], await ServerBinder.ResolveAsync("127.0.0.3", ct));

        var localhost = await ServerBinder.ResolveAsync("localhost", ct);
        Assert.Contains(IPAddress.Loopback, localhost);
        Assert.Equal(Socket.OSSupportsIPv6, localhost.Contains(IPAddress.IPv6Loopback));
        Assert.Equal(localhost.Count, localhost.Distinct().Count());
    }

    [Fact]
    public void Bind_PortZeroOnTwoAddresses_SharesOnePort()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Only Linux routes all of 127.0.0.0/8 to the loopback without setup.");
        var sockets = ServerBinder.Bind(
            [IPAddress.Loopback, IPAddress.Parse("127.0.0.2")], null, 0, new StreamServerOptions(), new ServerTestLog().CreateLogger("test"));
        try
        {
            var endPoints = sockets.Select(s => (IPEndPoint)s.LocalEndPoint!).ToArray();
            Assert.Equal(2, endPoints.Length);
            Assert.NotEqual(0, endPoints[0].Port);
            Assert.Equal(endPoints[0].Port, endPoints[1].Port);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public void Bind_PortZeroTakenOnTheSecondAddressEveryTime_RetriesABoundedNumberOfTimesThenThrows()
    {
        // The same address twice: the second bind always finds the first one's port taken, which is what a
        // port-0 bind meets when another program holds the picked port on another family.
        var log = new ServerTestLog();
        var taken = Assert.Throws<SocketException>(() => ServerBinder.Bind(
            [IPAddress.Loopback, IPAddress.Loopback], "twice", 0, new StreamServerOptions(), log.CreateLogger("test")));

        Assert.Equal(SocketError.AddressAlreadyInUse, taken.SocketErrorCode);
        Assert.Equal(ServerBinder.SharedPortAttempts - 1, log.WithEventId(SharedPortTakenEventId).Count());
    }

    [Fact]
    public void Bind_FixedPortTaken_ThrowsWithoutPickingAnotherPort()
    {
        var log = new ServerTestLog();
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        var taken = Assert.Throws<SocketException>(() => ServerBinder.Bind(
            [IPAddress.Loopback, IPAddress.Loopback], "twice", port, new StreamServerOptions(), log.CreateLogger("test")));

        Assert.Equal(SocketError.AddressAlreadyInUse, taken.SocketErrorCode);
        Assert.Empty(log.WithEventId(SharedPortTakenEventId));
    }
}
