using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;

namespace AsyncStreams.Tests;

/// <summary>
/// Invalid arguments and calls out of turn, on every public method: each is the typed exception API.md names, thrown
/// before anything happens, so the reader's next read still gets every byte and the writer's peer gets nothing extra.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultArgumentTests
{
    private static readonly Func<StreamReader, StreamWriter, Task> Echo = ServerTestKit.EchoLinesAsync;

    /// <summary>What must still hold after the exception.</summary>
    private enum Then
    {
        /// <summary>Nothing is left to check: the call had nothing to lose.</summary>
        Nothing,

        /// <summary>The fixture's reader, fed "hello\nworld\n" and EOF, still returns both lines.</summary>
        ReaderIntact,

        /// <summary>The fixture's writer still writes, and its peer receives exactly what was written besides the failed call.</summary>
        WriterIntact,
    }

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task InvalidCall_EveryPublicMethod_ThrowsTypedExceptionAndLosesNothing(string name)
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        var (member, expected, then, act) = Cases[name];
        await using (var fixture = await Fixture.CreateAsync(then, cts.Token))
        {
            var error = await Record.ExceptionAsync(() => act(fixture, cts.Token));

            Assert.NotNull(error);
            Assert.True(expected.IsInstanceOfType(error), $"{member}: expected {expected.Name}, got {error.GetType().Name}: {error.Message}");
            await fixture.AssertIntactAsync(cts.Token);
        }

        await guard.AssertCleanAsync();
    }

    [Fact]
    public void Cases_CoverEveryPublicMethodThatTakesArguments()
    {
        var covered = Cases.Values.Select(c => c.Member).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var type in typeof(Streams).Assembly.GetExportedTypes())
        {
            var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(m => !m.IsSpecialName)
                .Cast<MethodBase>()
                .Concat(type.GetConstructors());
            foreach (var method in methods)
            {
                var key = $"{type.Name}.{(method is ConstructorInfo ? "ctor" : method.Name)}";
                var takesArguments = method.GetParameters().Any(p => p.ParameterType != typeof(CancellationToken));
                if (takesArguments && !covered.Contains(key) && !AcceptsEveryArgument.ContainsKey(key))
                {
                    missing.Add(key);
                }
            }
        }

        Assert.True(missing.Count == 0, "Public methods with no invalid-argument case and no reason: " + string.Join(", ", missing));
    }

    /// <summary>Public methods whose every argument is valid, and why.</summary>
    private static readonly Dictionary<string, string> AcceptsEveryArgument = new(StringComparer.Ordinal)
    {
        ["StreamReader.ReadAsync"] = "any n is valid (negative reads to the end) and any buffer (empty returns 0)",
        ["StreamReader.GetAsyncEnumerator"] = "takes only a token",
        ["StreamWriter.Write"] = "any span is valid; an empty one writes nothing",
        ["LimitOverrunException.ctor"] = "asyncio's LimitOverrunError checks neither its message nor its count",
    };

    private static readonly Dictionary<string, (string Member, Type Expected, Then Then, Func<Fixture, CancellationToken, Task> Act)> Cases =
        new(StringComparer.Ordinal)
        {
            // StreamReader
            ["reader ctor limit 0"] = ("StreamReader.ctor", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, _) => Sync(() => new StreamReader(0))),
            ["reader ctor limit -1"] = ("StreamReader.ctor", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, _) => Sync(() => new StreamReader(-1))),
            ["FeedData after FeedEof"] = ("StreamReader.FeedData", typeof(InvalidOperationException), Then.ReaderIntact, (f, _) => Sync(() => f.Reader.FeedData("late"u8))),
            ["SetException null"] = ("StreamReader.SetException", typeof(ArgumentNullException), Then.ReaderIntact, (f, _) => Sync(() => f.Reader.SetException(null!))),
            ["ReadExactlyAsync -1"] = ("StreamReader.ReadExactlyAsync", typeof(ArgumentOutOfRangeException), Then.ReaderIntact, async (f, t) => await f.Reader.ReadExactlyAsync(-1, t)),
            ["ReadUntilAsync empty separator"] = ("StreamReader.ReadUntilAsync", typeof(ArgumentException), Then.ReaderIntact, async (f, t) => await f.Reader.ReadUntilAsync(ReadOnlyMemory<byte>.Empty, t)),
            ["ReadUntilAsync null list"] = ("StreamReader.ReadUntilAsync", typeof(ArgumentNullException), Then.ReaderIntact, async (f, t) => await f.Reader.ReadUntilAsync((IReadOnlyList<ReadOnlyMemory<byte>>)null!, t)),
            ["ReadUntilAsync empty list"] = ("StreamReader.ReadUntilAsync", typeof(ArgumentException), Then.ReaderIntact, async (f, t) => await f.Reader.ReadUntilAsync(Array.Empty<ReadOnlyMemory<byte>>(), t)),
            ["ReadUntilAsync list with an empty separator"] = ("StreamReader.ReadUntilAsync", typeof(ArgumentException), Then.ReaderIntact, async (f, t) => await f.Reader.ReadUntilAsync(new ReadOnlyMemory<byte>[] { "\n"u8.ToArray(), ReadOnlyMemory<byte>.Empty }, t)),
            ["ReadLineAsync while a read is pending"] = ("StreamReader.ReadLineAsync", typeof(InvalidOperationException), Then.Nothing, ReadWhilePendingAsync),
            ["IncompleteReadException null partial"] = ("IncompleteReadException.ctor", typeof(ArgumentNullException), Then.Nothing, (_, _) => Sync(() => new IncompleteReadException(null!, 1))),

            // StreamWriter
            ["WriteLines null"] = ("StreamWriter.WriteLines", typeof(ArgumentNullException), Then.WriterIntact, (f, _) => Sync(() => f.Writer.WriteLines(null!))),
            ["WriteLines with a null line"] = ("StreamWriter.WriteLines", typeof(ArgumentException), Then.WriterIntact, (f, _) => Sync(() => f.Writer.WriteLines(["lost"u8.ToArray(), null!]))),
            ["GetExtraInfo null"] = ("StreamWriter.GetExtraInfo", typeof(ArgumentNullException), Then.WriterIntact, (f, _) => Sync(() => f.Writer.GetExtraInfo(null!))),
            ["StartTlsAsync null client options"] = ("StreamWriter.StartTlsAsync", typeof(ArgumentNullException), Then.WriterIntact, (f, t) => f.Writer.StartTlsAsync((SslClientAuthenticationOptions)null!, t)),
            ["StartTlsAsync null server options"] = ("StreamWriter.StartTlsAsync", typeof(ArgumentNullException), Then.WriterIntact, (f, t) => f.Writer.StartTlsAsync((SslServerAuthenticationOptions)null!, t)),
            ["Write after Close"] = ("StreamWriter.Write", typeof(InvalidOperationException), Then.Nothing, WriteAfterCloseAsync),
            ["Write after WriteEof"] = ("StreamWriter.Write", typeof(InvalidOperationException), Then.Nothing, WriteAfterWriteEofAsync),
            ["WriteEof over TLS"] = ("StreamWriter.WriteEof", typeof(NotSupportedException), Then.Nothing, (f, t) => WithTlsWriterAsync(w => Sync(w.WriteEof), t)),
            ["StartTlsAsync over TLS"] = ("StreamWriter.StartTlsAsync", typeof(InvalidOperationException), Then.Nothing, (f, t) => WithTlsWriterAsync(w => w.StartTlsAsync(ServerTestCertificate.ClientOptions(), t), t)),
            ["DrainAsync after a reset"] = ("StreamWriter.DrainAsync", typeof(IOException), Then.Nothing, DrainAfterResetAsync),

            // Streams
            ["OpenConnectionAsync null host"] = ("Streams.OpenConnectionAsync", typeof(ArgumentException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync(null!, 80, cancellationToken: t)),
            ["OpenConnectionAsync empty host"] = ("Streams.OpenConnectionAsync", typeof(ArgumentException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("", 80, cancellationToken: t)),
            ["OpenConnectionAsync port 0"] = ("Streams.OpenConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 0, cancellationToken: t)),
            ["OpenConnectionAsync port 65536"] = ("Streams.OpenConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 65536, cancellationToken: t)),
            ["OpenConnectionAsync null ssl options"] = ("Streams.OpenConnectionAsync", typeof(ArgumentNullException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 80, (SslClientAuthenticationOptions)null!, cancellationToken: t)),
            ["OpenConnectionAsync Limit 0"] = ("Streams.OpenConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { Limit = 0 }, cancellationToken: t)),
            ["OpenConnectionAsync low water mark -1"] = ("Streams.OpenConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { WriteLowWaterMark = -1 }, cancellationToken: t)),
            ["OpenConnectionAsync high below low"] = ("Streams.OpenConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { WriteHighWaterMark = 10, WriteLowWaterMark = 20 }, cancellationToken: t)),
            ["OpenConnectionAsync handshake timeout 0"] = ("Streams.OpenConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { SslHandshakeTimeout = TimeSpan.Zero }, cancellationToken: t)),
            ["OpenConnectionAsync shutdown timeout negative"] = ("Streams.OpenConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenConnectionAsync("127.0.0.1", 80, options: new ConnectionOptions { SslShutdownTimeout = TimeSpan.FromSeconds(-2) }, cancellationToken: t)),
            ["OpenUnixConnectionAsync null path"] = ("Streams.OpenUnixConnectionAsync", typeof(ArgumentNullException), Then.Nothing, (_, t) => Streams.OpenUnixConnectionAsync(null!, cancellationToken: t)),
            ["OpenUnixConnectionAsync empty path"] = ("Streams.OpenUnixConnectionAsync", typeof(ArgumentException), Then.Nothing, (_, t) => Streams.OpenUnixConnectionAsync("", cancellationToken: t)),
            ["OpenUnixConnectionAsync Limit 0"] = ("Streams.OpenUnixConnectionAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => Streams.OpenUnixConnectionAsync("/nonexistent.sock", new ConnectionOptions { Limit = 0 }, t)),

            // StreamServer
            ["StartAsync null callback"] = ("StreamServer.StartAsync", typeof(ArgumentNullException), Then.Nothing, (_, t) => StreamServer.StartAsync(null!, "127.0.0.1", 0, cancellationToken: t)),
            ["StartAsync port -1"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", -1, cancellationToken: t)),
            ["StartAsync port 65536"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", 65536, cancellationToken: t)),
            ["StartAsync Backlog -1"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", 0, new StreamServerOptions { Backlog = -1 }, t)),
            ["StartAsync MaxConnections -1"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", 0, new StreamServerOptions { MaxConnections = -1 }, t)),
            ["StartAsync Limit 0"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", 0, new StreamServerOptions { Limit = 0 }, t)),
            ["StartAsync IdleTimeout 0"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", 0, new StreamServerOptions { IdleTimeout = TimeSpan.Zero }, t)),
            ["StartAsync IdleTimeout negative"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", 0, new StreamServerOptions { IdleTimeout = TimeSpan.FromSeconds(-5) }, t)),
            ["StartAsync handshake timeout 0"] = ("StreamServer.StartAsync", typeof(ArgumentOutOfRangeException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, "127.0.0.1", 0, new StreamServerOptions { SslHandshakeTimeout = TimeSpan.Zero }, t)),
            ["StartAsync null socket"] = ("StreamServer.StartAsync", typeof(ArgumentNullException), Then.Nothing, (_, t) => StreamServer.StartAsync(Echo, (Socket)null!, cancellationToken: t)),
            ["StartAsync unbound socket"] = ("StreamServer.StartAsync", typeof(ArgumentException), Then.Nothing, (_, t) => WithSocketAsync(SocketType.Stream, bind: false, dispose: false, s => StreamServer.StartAsync(Echo, s, cancellationToken: t))),
            ["StartAsync datagram socket"] = ("StreamServer.StartAsync", typeof(ArgumentException), Then.Nothing, (_, t) => WithSocketAsync(SocketType.Dgram, bind: true, dispose: false, s => StreamServer.StartAsync(Echo, s, cancellationToken: t))),
            ["StartAsync disposed socket"] = ("StreamServer.StartAsync", typeof(ObjectDisposedException), Then.Nothing, (_, t) => WithSocketAsync(SocketType.Stream, bind: true, dispose: true, s => StreamServer.StartAsync(Echo, s, cancellationToken: t))),
            ["StartUnixAsync null callback"] = ("StreamServer.StartUnixAsync", typeof(ArgumentNullException), Then.Nothing, (_, t) => StreamServer.StartUnixAsync(null!, "/tmp/x.sock", cancellationToken: t)),
            ["StartUnixAsync null path"] = ("StreamServer.StartUnixAsync", typeof(ArgumentNullException), Then.Nothing, (_, t) => StreamServer.StartUnixAsync(Echo, null!, cancellationToken: t)),
            ["StartUnixAsync empty path"] = ("StreamServer.StartUnixAsync", typeof(ArgumentException), Then.Nothing, (_, t) => StreamServer.StartUnixAsync(Echo, "", cancellationToken: t)),
            ["StartServing after Close"] = ("StreamServer.StartServing", typeof(InvalidOperationException), Then.Nothing, (_, t) => WithClosedServerAsync(s => Sync(s.StartServing), t)),
            ["ServeForeverAsync after Close"] = ("StreamServer.ServeForeverAsync", typeof(InvalidOperationException), Then.Nothing, (_, t) => WithClosedServerAsync(s => s.ServeForeverAsync(t), t)),
            ["ServeForeverAsync twice"] = ("StreamServer.ServeForeverAsync", typeof(InvalidOperationException), Then.Nothing, ServeForeverTwiceAsync),
        };

    private static Task Sync(Action action)
    {
        action();
        return Task.CompletedTask;
    }

    private static Task Sync(Func<object?> action)
    {
        action();
        return Task.CompletedTask;
    }

    private static async Task ReadWhilePendingAsync(Fixture fixture, CancellationToken cancellationToken)
    {
        // A read waits on an empty reader; a second one is refused, and the first then gets every byte fed.
        var reader = new StreamReader();
        var pending = reader.ReadExactlyAsync(6, cancellationToken);
        try
        {
            await reader.ReadLineAsync(cancellationToken);
        }
        finally
        {
            reader.FeedData("intact"u8);
            Assert.Equal("intact"u8.ToArray(), await pending);
        }
    }

    private static async Task WriteAfterCloseAsync(Fixture fixture, CancellationToken cancellationToken)
    {
        fixture.Writer.Write("before\n"u8);
        fixture.Writer.Close();
        try
        {
            fixture.Writer.Write("lost\n"u8);
        }
        finally
        {
            Assert.Equal("before\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(fixture.Peer, cancellationToken));
        }
    }

    private static async Task WriteAfterWriteEofAsync(Fixture fixture, CancellationToken cancellationToken)
    {
        fixture.Writer.Write("before\n"u8);
        fixture.Writer.WriteEof();
        try
        {
            fixture.Writer.Write("lost\n"u8);
        }
        finally
        {
            Assert.Equal("before\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(fixture.Peer, cancellationToken));
        }
    }

    private static async Task DrainAfterResetAsync(Fixture fixture, CancellationToken cancellationToken)
    {
        RawPeer.Reset(fixture.Peer);
        Assert.IsType<IOException>(await Record.ExceptionAsync(async () => await fixture.Reader.ReadAsync(-1, cancellationToken)));

        // asyncio: writes on a lost connection are dropped silently; the drain reports the loss.
        fixture.Writer.Write("dropped"u8);
        await fixture.Writer.DrainAsync(cancellationToken);
    }

    private static async Task WithTlsWriterAsync(Func<StreamWriter, Task> act, CancellationToken cancellationToken)
    {
        await using var server = await StreamServer.StartAsync(
            Echo, "127.0.0.1", 0, new StreamServerOptions { Ssl = ServerTestCertificate.ServerOptions() }, cancellationToken);
        var (reader, writer) = await Streams.OpenConnectionAsync(
            "127.0.0.1", ServerTestKit.Port(server), ServerTestCertificate.ClientOptions("127.0.0.1"), cancellationToken: cancellationToken);
        await using (writer)
        {
            try
            {
                await act(writer);
            }
            finally
            {
                // The connection is still whole.
                writer.Write("after\n"u8);
                Assert.Equal("after\n"u8.ToArray(), await reader.ReadLineAsync(cancellationToken));
            }
        }
    }

    private static async Task WithSocketAsync(SocketType type, bool bind, bool dispose, Func<Socket, Task> act)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp);
        if (bind)
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }

        if (dispose)
        {
            socket.Dispose();
        }

        await act(socket);
    }

    private static async Task WithClosedServerAsync(Func<StreamServer, Task> act, CancellationToken cancellationToken)
    {
        var server = await StreamServer.StartAsync(Echo, "127.0.0.1", 0, cancellationToken: cancellationToken);
        await server.DisposeAsync();
        await act(server);
    }

    private static async Task ServeForeverTwiceAsync(Fixture fixture, CancellationToken cancellationToken)
    {
        await using var server = await StreamServer.StartAsync(Echo, "127.0.0.1", 0, cancellationToken: cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var first = server.ServeForeverAsync(stop.Token);
        try
        {
            await server.ServeForeverAsync(cancellationToken);
        }
        finally
        {
            // The first call serves on until it is cancelled.
            Assert.False(first.IsCompleted);
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        }
    }

    /// <summary>A reader fed "hello\nworld\n" then EOF, and a writer on a live connection to a raw peer.</summary>
    private sealed class Fixture : IAsyncDisposable
    {
        private Socket? _listener;
        private Then _then;

        public StreamReader Reader { get; private set; } = null!;

        public StreamWriter Writer { get; private set; } = null!;

        public Socket Peer { get; private set; } = null!;

        public static async Task<Fixture> CreateAsync(Then then, CancellationToken cancellationToken)
        {
            var fixture = new Fixture { _then = then, _listener = ConnectionTestKit.Listen() };
            var (reader, writer, peer) = await ConnectionTestKit.ConnectAsync(fixture._listener, null, cancellationToken);
            fixture.Writer = writer;
            fixture.Peer = peer;
            fixture.Reader = reader;
            if (then == Then.ReaderIntact)
            {
                fixture.Reader = new StreamReader();
                fixture.Reader.FeedData("hello\nworld\n"u8);
                fixture.Reader.FeedEof();
            }

            return fixture;
        }

        public async Task AssertIntactAsync(CancellationToken cancellationToken)
        {
            switch (_then)
            {
                case Then.ReaderIntact:
                    Assert.Equal("hello\n"u8.ToArray(), await Reader.ReadLineAsync(cancellationToken));
                    Assert.Equal("world\n"u8.ToArray(), await Reader.ReadLineAsync(cancellationToken));
                    Assert.Empty(await Reader.ReadLineAsync(cancellationToken));
                    break;
                case Then.WriterIntact:
                    Writer.Write("after\n"u8);
                    Writer.Close();
                    Assert.Equal("after\n"u8.ToArray(), await ServerTestKit.ReceiveToEndAsync(Peer, cancellationToken));
                    break;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Writer.Close();
            Peer.Dispose();
            await Writer.WaitClosedAsync();
            _listener?.Dispose();
        }
    }
}
