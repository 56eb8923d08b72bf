using System.Diagnostics;
using System.Net.Sockets;
using AsyncStreams.Internal;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Tests;

public class ServerAcceptErrorTests
{
    private const int AcceptOutOfResourcesEventId = 4;
    private const int AcceptFailedEventId = 5;

    [Theory]
    [InlineData(SocketError.TooManyOpenSockets)]
    [InlineData(SocketError.NoBufferSpaceAvailable)]
    public async Task AcceptLoop_OutOfResources_LogsBacksOffAndAcceptsAgain(SocketError error)
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();
        var delay = TimeSpan.FromMilliseconds(200);
        var calls = new List<long>();
        var hooks = new ServerHooks
        {
            AcceptRetryDelay = delay,
            Accept = (listener, cancellationToken) =>
            {
                int call;
                lock (calls)
                {
                    calls.Add(Stopwatch.GetTimestamp());
                    call = calls.Count;
                }

                // EMFILE/ENFILE (or ENOBUFS) on the first two accepts, as a host out of descriptors reports them.
                return call <= 2
                    ? ValueTask.FromException<Socket>(new SocketException((int)error))
                    : listener.AcceptAsync(cancellationToken);
            },
        };
        var server = await StreamServer.StartAsync(
            ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { LoggerFactory = log }, hooks, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cts.Token);
        writer.Write("after back-off\n"u8);
        Assert.Equal("after back-off\n"u8.ToArray(), await reader.ReadLineAsync(cts.Token));
        await writer.DisposeAsync();

        var errors = log.WithEventId(AcceptOutOfResourcesEventId).ToArray();
        Assert.Equal(2, errors.Length);
        Assert.All(errors, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.All(errors, e => Assert.Equal(error, Assert.IsType<SocketException>(e.Exception).SocketErrorCode));
        lock (calls)
        {
            // Each retry came only after the back-off (a lower bound: timers never fire early by more than their resolution).
            Assert.True(Stopwatch.GetElapsedTime(calls[0], calls[1]) >= delay - TimeSpan.FromMilliseconds(20));
            Assert.True(Stopwatch.GetElapsedTime(calls[1], calls[2]) >= delay - TimeSpan.FromMilliseconds(20));
        }
    }

    [Fact]
    public async Task AcceptLoop_ConnectionAbortedBeforeAccept_AcceptsAgainWithoutBackOff()
    {
        using var cts = ServerTestKit.Timeout();
        var failed = 0;
        var hooks = new ServerHooks
        {
            // An infinite back-off: the test only passes if an aborted accept is retried at once.
            AcceptRetryDelay = Timeout.InfiniteTimeSpan,
            Accept = (listener, cancellationToken) => Interlocked.Exchange(ref failed, 1) == 0
                ? ValueTask.FromException<Socket>(new SocketException((int)SocketError.ConnectionAborted))
                : listener.AcceptAsync(cancellationToken),
        };
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, null, hooks, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await ServerTestKit.SendAsync(client, "ok\n", cts.Token);
        Assert.Equal("ok\n"u8.ToArray(), await ServerTestKit.ReceiveExactlyAsync(client, 3, cts.Token));
    }

    [Fact]
    public async Task AcceptLoop_UnexpectedException_LoggedAndTheLoopGoesOn()
    {
        using var cts = ServerTestKit.Timeout();
        var log = new ServerTestLog();
        var failed = 0;
        var hooks = new ServerHooks
        {
            AcceptRetryDelay = TimeSpan.FromMilliseconds(10),
            Accept = (listener, cancellationToken) => Interlocked.Exchange(ref failed, 1) == 0
                ? throw new InvalidOperationException("accept hook failure")
                : listener.AcceptAsync(cancellationToken),
        };
        var server = await StreamServer.StartAsync(
            ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, new StreamServerOptions { LoggerFactory = log }, hooks, cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
        await ServerTestKit.SendAsync(client, "ok\n", cts.Token);
        Assert.Equal("ok\n"u8.ToArray(), await ServerTestKit.ReceiveExactlyAsync(client, 3, cts.Token));

        var entry = Assert.Single(log.WithEventId(AcceptFailedEventId));
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.IsType<InvalidOperationException>(entry.Exception);
    }

    [Fact]
    public async Task Close_DuringBackOff_EndsTheAcceptLoopAndWaitClosedCompletes()
    {
        using var cts = ServerTestKit.Timeout();
        var hooks = new ServerHooks
        {
            AcceptRetryDelay = Timeout.InfiniteTimeSpan,
            Accept = (listener, cancellationToken) => ValueTask.FromException<Socket>(new SocketException((int)SocketError.TooManyOpenSockets)),
        };
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, null, hooks, cts.Token);

        await server.DisposeAsync().AsTask().WaitAsync(cts.Token);
        Assert.False(server.IsServing);
    }
}
