using System.Net.Sockets;

namespace AsyncStreams.Tests;

public sealed class ServerUnixTests : IDisposable
{
    // Short and unique: sun_path holds about 100 bytes.
    private readonly string _directory = Directory.CreateTempSubdirectory("as-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task StartUnixAsync_OurClientAndRawSocket_EchoAndTheSocketFileGoesOnClose()
    {
        Assert.SkipUnless(Socket.OSSupportsUnixDomainSockets, "This host has no Unix domain sockets.");
        using var cts = ServerTestKit.Timeout();
        var path = Path.Combine(_directory, "echo.sock");
        var server = await StreamServer.StartUnixAsync(ServerTestKit.EchoLinesAsync, path, cancellationToken: cts.Token);
        await using (ServerTestKit.Guard(server))
        {
            Assert.Equal(path, Assert.IsType<UnixDomainSocketEndPoint>(Assert.Single(server.EndPoints)).ToString());
            Assert.True(File.Exists(path));

            var (reader, writer) = await Streams.OpenUnixConnectionAsync(path, cancellationToken: cts.Token);
            writer.Write("over unix\n"u8);
            Assert.Equal("over unix\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
            await writer.DisposeAsync();

            using var raw = await ServerTestKit.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
            await ServerTestKit.SendAsync(raw, "raw\n", cts.Token);
            raw.Shutdown(SocketShutdown.Send);
            Assert.Equal("raw\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(raw, cts.Token));
        }

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task StartUnixAsync_StaleSocketFileAtPath_RemovesItAndServes()
    {
        Assert.SkipUnless(Socket.OSSupportsUnixDomainSockets, "This host has no Unix domain sockets.");
        using var cts = ServerTestKit.Timeout();
        var path = Path.Combine(_directory, "stale.sock");
        MakeStaleSocketFile(path);
        Assert.True(File.Exists(path));

        var server = await StreamServer.StartUnixAsync(ServerTestKit.EchoLinesAsync, path, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var raw = await ServerTestKit.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
        await ServerTestKit.SendAsync(raw, "fresh\n", cts.Token);
        raw.Shutdown(SocketShutdown.Send);
        Assert.Equal("fresh\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(raw, cts.Token));
    }

    [Fact]
    public async Task StartUnixAsync_RegularFileAtPath_ThrowsAddressAlreadyInUseAndKeepsTheFile()
    {
        Assert.SkipUnless(Socket.OSSupportsUnixDomainSockets, "This host has no Unix domain sockets.");
        using var cts = ServerTestKit.Timeout();
        var path = Path.Combine(_directory, "data.txt");
        await File.WriteAllTextAsync(path, "user data", cts.Token);

        var taken = await Assert.ThrowsAsync<SocketException>(
            () => StreamServer.StartUnixAsync(ServerTestKit.EchoLinesAsync, path, cancellationToken: cts.Token));

        Assert.Equal(SocketError.AddressAlreadyInUse, taken.SocketErrorCode);
        Assert.Equal("user data", await File.ReadAllTextAsync(path, cts.Token));
    }

    [Fact]
    public async Task StartAsync_PreBoundUnixSocket_Serves()
    {
        Assert.SkipUnless(Socket.OSSupportsUnixDomainSockets, "This host has no Unix domain sockets.");
        using var cts = ServerTestKit.Timeout();
        var path = Path.Combine(_directory, "activated.sock");
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));

        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, socket, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var raw = await ServerTestKit.ConnectAsync(new UnixDomainSocketEndPoint(path), cts.Token);
        await ServerTestKit.SendAsync(raw, "activated\n", cts.Token);
        raw.Shutdown(SocketShutdown.Send);
        Assert.Equal("activated\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(raw, cts.Token));
    }

    /// <summary>Leaves a socket file nobody listens on, as a crashed server does.</summary>
    private void MakeStaleSocketFile(string path)
    {
        // A disposed socket removes the file it bound; a rename first leaves the socket file behind at the new name.
        var bound = Path.Combine(_directory, "bound.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(bound));
        socket.Listen();
        File.Move(bound, path);
    }
}
