using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using AsyncStreams.Internal;

namespace AsyncStreams.Tests;

/// <summary>
/// The Linux event loop: plain connections wait for data on the library's own epoll threads, which then run the
/// receive loop and the reader's continuations, and the switch that turns it off.
/// </summary>
public class EventLoopTests
{
    private const string LoopThreadPrefix = "AsyncStreams event loop";

    [Fact]
    public void IsEnabled_OnLinuxByDefault()
    {
        Assert.Equal(OperatingSystem.IsLinux(), EventLoop.IsEnabled);
    }

    [Fact]
    public async Task ServerCallback_AfterAReadThatWaited_RunsOnAnEventLoopThread()
    {
        Assert.SkipUnless(EventLoop.IsEnabled, "The event loop runs on Linux only.");
        using var cts = ServerTestKit.Timeout();
        var threadName = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                var line = await reader.ReadLineAsync();
                threadName.TrySetResult(Thread.CurrentThread.Name);
                writer.Write(line);
                await writer.DrainAsync();
                writer.Close();
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await Task.Delay(50, cts.Token); // The callback's read waits for the line.
        await ServerTestKit.SendAsync(client, "hello\n", cts.Token);

        Assert.Equal("hello\n", Encoding.ASCII.GetString(await ServerTestKit.ReceiveToEndAsync(client, cts.Token)));
        Assert.StartsWith(LoopThreadPrefix, await threadName.Task.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task PeerSendsThenClosesAtOnce_DataThenEndReachTheReaderEveryTime()
    {
        // The peer's data and FIN can both be queued before the connection registers with the loop, which then
        // reports them in one edge: the receive loop must receive again after the data to see the end.
        using var cts = ServerTestKit.Timeout(60);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                writer.Write(await reader.ReadAsync(-1));
                await writer.DrainAsync();
                writer.Close();
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        for (var i = 0; i < 200; i++)
        {
            var text = $"message {i}";
            using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
            await ServerTestKit.SendAsync(client, text, cts.Token);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(text, Encoding.ASCII.GetString(await ServerTestKit.ReceiveToEndAsync(client, cts.Token)));
        }
    }

    [Fact]
    public async Task BurstLargerThanOneReceive_ArrivesWhole_WithoutFurtherDataFromThePeer()
    {
        // 1 MiB sent at once fills many receives; the edge-triggered loop reports it once, so the receive loop must
        // go on receiving after a full buffer. The peer then waits without sending anything more.
        using var cts = ServerTestKit.Timeout();
        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        var server = await StreamServer.StartAsync(
            async (reader, writer) =>
            {
                var all = await reader.ReadExactlyAsync(payload.Length);
                writer.Write(SHA256.HashData(all));
                await writer.DrainAsync();
            },
            "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await ServerTestKit.SendAsync(client, payload, cts.Token);

        Assert.Equal(SHA256.HashData(payload), await ServerTestKit.ReceiveExactlyAsync(client, 32, cts.Token));
    }

    [Fact]
    public async Task ConnectionsClosed_LeaveNoRegistrationBehind()
    {
        Assert.SkipUnless(EventLoop.IsEnabled, "The event loop runs on Linux only.");
        using var cts = ServerTestKit.Timeout();
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        var connections = new List<(StreamReader Reader, StreamWriter Writer)>();
        for (var i = 0; i < 20; i++)
        {
            var connection = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
            connection.Writer.Write("ping\n"u8);
            Assert.Equal("ping\n"u8.ToArray(), await connection.Reader.ReadLineAsync(cts.Token));
            connections.Add(connection);
        }

        // Each open connection holds one registration on the client side and one on the server side.
        Assert.True(EventLoop.RegistrationCount >= 40, $"{EventLoop.RegistrationCount} registrations for 20 connections");

        foreach (var (reader, writer) in connections)
        {
            writer.Close();
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
            Assert.True(reader.AtEof);
        }

        server.Close();
        await server.WaitClosedAsync().WaitAsync(cts.Token);

        // Other tests run at the same time and hold registrations of their own, so this only checks that ours
        // went: the count drops back under what these connections alone held.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (EventLoop.RegistrationCount >= 40 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, cts.Token);
        }

        Assert.True(EventLoop.RegistrationCount < 40, $"{EventLoop.RegistrationCount} registrations left");
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("1", true)]
    public async Task EchoServerSample_UseEventLoopVariable_DecidesWhetherLoopThreadsExist(string? value, bool loopThreads)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Thread names are read from /proc.");
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        var environment = new Dictionary<string, string>();
        if (value is not null)
        {
            environment["ASYNCSTREAMS_USE_EVENT_LOOP"] = value;
        }

        await using var server = SampleProcess.StartSample("EchoServer", environment, "--port", "0", "--persistent");
        var endpoint = await server.WaitForServingAsync(ct);
        using (var client = await ServerTestKit.ConnectAsync(endpoint, ct))
        {
            for (var i = 0; i < 3; i++)
            {
                var line = string.Create(CultureInfo.InvariantCulture, $"line {i}\n");
                await ServerTestKit.SendAsync(client, line, ct);
                Assert.Equal(line, Encoding.ASCII.GetString(await ServerTestKit.ReceiveExactlyAsync(client, line.Length, ct)));
            }
        }

        // The kernel keeps the first 15 bytes of a thread's name.
        var names = Directory.GetDirectories($"/proc/{server.Id}/task")
            .Select(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'))
            .ToList();
        Assert.Equal(loopThreads, names.Contains(LoopThreadPrefix[..15]));
    }
}
