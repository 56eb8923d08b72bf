using System.Net;
using System.Net.Sockets;
using AsyncStreams.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class HappyEyeballsTests
{
    [Fact]
    public void Interleave_MixedFamilies_AlternatesStartingWithFirst()
    {
        IPEndPoint E(string a) => new(IPAddress.Parse(a), 1);
        var ordered = HappyEyeballs.Interleave([E("::1"), E("::2"), E("::3"), E("127.0.0.1"), E("127.0.0.2")]);
        Assert.Equal(["::1", "127.0.0.1", "::2", "127.0.0.2", "::3"], ordered.Select(e => e.Address.ToString()));
    }

    [Fact]
    public async Task ConnectAsync_FirstAddressNeverAnswers_ConnectsToSecondAfterDelay()
    {
        using var cts = Bounded();
        using Socket good = Listen(IPAddress.Loopback);
        using BlackHole blackHole = await BlackHole.CreateAsync(cts.Token);
        Task<Socket> accept = good.AcceptAsync(cts.Token).AsTask();

        using Socket socket = await HappyEyeballs.ConnectAsync(
            [blackHole.EndPoint, (IPEndPoint)good.LocalEndPoint!], null, TimeSpan.FromMilliseconds(100),
            NullLogger.Instance, cts.Token);

        using Socket peer = await accept;
        Assert.Equal(good.LocalEndPoint, socket.RemoteEndPoint);
        Assert.Equal(socket.LocalEndPoint, peer.RemoteEndPoint);
    }

    [Fact]
    public async Task ConnectAsync_Sequential_FirstRefusedThenSecondConnects()
    {
        using var cts = Bounded();
        using Socket good = Listen(IPAddress.Loopback);
        int refusedPort;
        using (Socket closed = Listen(IPAddress.Loopback))
        {
            refusedPort = closed.Port();
        }

        Task<Socket> accept = good.AcceptAsync(cts.Token).AsTask();
        using Socket socket = await HappyEyeballs.ConnectAsync(
            [new IPEndPoint(IPAddress.Loopback, refusedPort), (IPEndPoint)good.LocalEndPoint!], null, null,
            NullLogger.Instance, cts.Token);
        using Socket peer = await accept;
        Assert.Equal(good.LocalEndPoint, socket.RemoteEndPoint);
    }

    [Fact]
    public async Task ConnectAsync_AllRefused_ThrowsFirstSocketException()
    {
        using var cts = Bounded();
        var endPoints = new List<IPEndPoint>();
        for (int i = 0; i < 3; i++)
        {
            using Socket closed = Listen(IPAddress.Loopback);
            endPoints.Add((IPEndPoint)closed.LocalEndPoint!);
        }

        var error = await Assert.ThrowsAsync<SocketException>(() => HappyEyeballs.ConnectAsync(
            endPoints, null, TimeSpan.FromMilliseconds(250), NullLogger.Instance, cts.Token));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task ConnectAsync_CanceledWhileAttemptHangs_ThrowsOperationCanceled()
    {
        using var cts = Bounded();
        using BlackHole blackHole = await BlackHole.CreateAsync(cts.Token);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        Task<Socket> connect = HappyEyeballs.ConnectAsync(
            [blackHole.EndPoint, blackHole.EndPoint], null, TimeSpan.FromMilliseconds(50), NullLogger.Instance, cancel.Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect);
    }

    /// <summary>
    /// A loopback listener whose accept queue is full and never drained: the kernel drops further SYNs,
    /// so a connection attempt to it hangs without an answer, like an unreachable address.
    /// </summary>
    private sealed class BlackHole : IDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _fillers = [];

        private BlackHole(Socket listener) => _listener = listener;

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

        public static async Task<BlackHole> CreateAsync(CancellationToken cancellationToken)
        {
            var hole = new BlackHole(Listen(IPAddress.Loopback, backlog: 0));

            // Fill the queue until an attempt gets no answer within a short wait (bounded).
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                hole._fillers.Add(filler);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(TimeSpan.FromMilliseconds(500));
                try
                {
                    await filler.ConnectAsync(hole.EndPoint, wait.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return hole;
                }
            }

            hole.Dispose();
            throw new InvalidOperationException("The accept queue never filled up.");
        }

        public void Dispose()
        {
            foreach (Socket filler in _fillers)
            {
                filler.Dispose();
            }

            _listener.Dispose();
        }
    }
}
