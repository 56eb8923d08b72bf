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

    [Fact]
    public async Task EndedRegistration_ItsSlotReused_EventsOfTheOldSocketDoNotReachTheNewHandler()
    {
        Assert.SkipUnless(EventLoop.IsEnabled, "The event loop runs on Linux only.");
        using var cts = ServerTestKit.Timeout();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(64);
        var pairs = new List<(Socket Client, Socket Server)>();
        try
        {
            // A registration ends (its socket stays open, so epoll still reports it) and the next registration on the
            // same loop takes its slot. Other tests register connections at the same time and may take the slot
            // first, so this tries a few times.
            RecordingHandler? old = null;
            RecordingHandler? current = null;
            (Socket Client, Socket Server) oldPair = default, currentPair = default;
            for (var attempt = 0; attempt < 20 && current is null; attempt++)
            {
                oldPair = await ConnectPairAsync(listener, pairs, cts.Token);
                var first = new RecordingHandler();
                EventLoop loop = RegisterOnAnyLoop(oldPair.Server, first);
                loop.Unregister(first.RegistrationId);
                currentPair = await ConnectPairAsync(listener, pairs, cts.Token);
                var second = new RecordingHandler { Socket = currentPair.Server };
                Assert.True(loop.TryAdd(currentPair.Server, second));
                if ((uint)second.RegistrationId == (uint)first.RegistrationId)
                {
                    (old, current) = (first, second);
                }
                else
                {
                    loop.Unregister(second.RegistrationId);
                }
            }

            Assert.True(current is not null, "no registration reused an ended one's slot in 20 attempts");
            Assert.NotEqual(old!.RegistrationId, current.RegistrationId);

            // The old socket's event comes first (epoll reports in order of readiness), so by the time the new socket's
            // own event reaches its handler, a misrouted one would have reached it too.
            oldPair.Client!.Send("old"u8);
            currentPair.Client!.Send("new"u8);
            var hadData = await current.FirstCall.Task.WaitAsync(cts.Token);
            Assert.True(hadData, "the new handler was called before its socket had data");
            Assert.Equal(1, current.Calls);
            Assert.Equal(0, old.Calls);
            current.Loop!.Unregister(current.RegistrationId);

            EventLoop RegisterOnAnyLoop(Socket socket, RecordingHandler handler)
            {
                Assert.True(EventLoop.TryRegister(socket, handler));
                return handler.Loop!;
            }
        }
        finally
        {
            foreach (var (client, server) in pairs)
            {
                client.Dispose();
                server.Dispose();
            }
        }
    }

    private static async Task<(Socket Client, Socket Server)> ConnectPairAsync(Socket listener, List<(Socket, Socket)> pairs, CancellationToken ct)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!, ct);
        var server = await listener.AcceptAsync(ct);
        pairs.Add((client, server));
        return (client, server);
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

    /// <summary>A registration's handler that counts its calls and notes whether the first found data waiting.</summary>
    private sealed class RecordingHandler : IEventLoopHandler
    {
        private int _calls;

        public EventLoop? Loop { get; private set; }

        public long RegistrationId { get; private set; }

        public Socket? Socket { get; set; }

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>Completes on the first call: true when the registered socket had data to read.</summary>
        public TaskCompletionSource<bool> FirstCall { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnRegistering(EventLoop loop, long id)
        {
            Loop = loop;
            RegistrationId = id;
        }

        public void OnReady(bool hangUp)
        {
            Interlocked.Increment(ref _calls);
            FirstCall.TrySetResult(Socket is { } socket && socket.Available > 0);
        }
    }
}
