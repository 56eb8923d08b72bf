using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AsyncStreams.Internal;

namespace AsyncStreams.Tests;

/// <summary>
/// The leak checks every fault and soak scenario ends with: the process's open descriptors return to their count
/// before the scenario, every buffer the transport rented from the pool has been returned, and no task faulted
/// without anyone observing its exception.
/// </summary>
/// <remarks>
/// Connections close asynchronously, so the checks wait for the counts to settle, polling, up to a bound; they
/// never sleep a fixed time. The tests that use it run in <see cref="ReliabilityDefinition"/>, alone in the process.
/// </remarks>
internal sealed class LeakGuard : IDisposable
{
    private static readonly TimeSpan DefaultSettle = TimeSpan.FromSeconds(10);
    private static readonly Lazy<Task> WarmUp = new(WarmUpAsync);

    private readonly ConcurrentQueue<Exception> _unobserved = new();
    private readonly int _descriptors;
    private readonly Dictionary<string, string> _descriptorTargets;
    private readonly long _buffers;
    private bool _disposed;

    private LeakGuard(int descriptors, long buffers)
    {
        _descriptors = descriptors;
        _descriptorTargets = FileDescriptors.CanCount ? FileDescriptors.Targets() : [];
        _buffers = buffers;
        TaskScheduler.UnobservedTaskException += OnUnobserved;
    }

    /// <summary>Gets the descriptor count at the start.</summary>
    public int BaselineDescriptors => _descriptors;

    /// <summary>Takes the baseline: after a one-time warm-up (lazily opened runtime descriptors), and a full collection that flushes out earlier tests' garbage.</summary>
    public static async Task<LeakGuard> StartAsync()
    {
        Assert.True(PooledBuffers.IsTracking, $"The test project must set the runtime switch {PooledBuffers.TrackingSwitch}.");
        await WarmUp.Value;
        CollectEverything();
        return new LeakGuard(FileDescriptors.CanCount ? FileDescriptors.Count() : 0, PooledBuffers.Outstanding);
    }

    /// <summary>Waits (bounded) for descriptors and buffers to settle back to the baseline, then asserts all three checks.</summary>
    public async Task AssertCleanAsync(TimeSpan? settle = null)
    {
        var deadline = DateTime.UtcNow + (settle ?? DefaultSettle);
        int descriptors;
        long buffers;
        while (true)
        {
            descriptors = FileDescriptors.CanCount ? FileDescriptors.Count() : 0;
            buffers = PooledBuffers.Outstanding;
            if ((descriptors <= _descriptors && buffers <= _buffers) || DateTime.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(20, CancellationToken.None);
        }

        CollectEverything();
        Dispose();
        Assert.True(
            descriptors <= _descriptors,
            $"Open file descriptors: {descriptors}, {descriptors - _descriptors} more than the {_descriptors} before the scenario. New or changed: "
            + string.Join(", ", FileDescriptors.Targets().Where(t => !_descriptorTargets.TryGetValue(t.Key, out var old) || old != t.Value).Select(t => $"{t.Key} -> {t.Value}")));
        Assert.True(buffers <= _buffers, $"Pooled buffers outstanding: {buffers}, {buffers - _buffers} more than the {_buffers} before the scenario.");
        Assert.True(_unobserved.IsEmpty, "Unobserved task exceptions: " + string.Join(" | ", _unobserved.Select(e => e.ToString())));
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    private static void CollectEverything()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        GC.Collect();
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        _unobserved.Enqueue(e.Exception);
        e.SetObserved();
    }

    // The runtime opens some descriptors the first time a feature is used (the socket engine's epoll, TLS's
    // libraries and configuration files, Unix sockets): do each once so they are in every baseline.
    private static async Task WarmUpAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await ServerTestKit.WarmUpTlsAsync(cts.Token);

        await using (var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "localhost", 0, cancellationToken: cts.Token))
        {
            var (reader, writer) = await Streams.OpenConnectionAsync("localhost", ServerTestKit.Port(server), cancellationToken: cts.Token);
            writer.Write("warm\n"u8);
            await reader.ReadLineAsync(cts.Token);
            await writer.DisposeAsync();
        }

        var path = Path.Combine(Path.GetTempPath(), $"as-warm-{Environment.ProcessId}.sock");
        await using (var server = await StreamServer.StartUnixAsync(ServerTestKit.EchoLinesAsync, path, cancellationToken: cts.Token))
        {
            var (reader, writer) = await Streams.OpenUnixConnectionAsync(path, cancellationToken: cts.Token);
            writer.Write("warm\n"u8);
            await reader.ReadLineAsync(cts.Token);
            await writer.DisposeAsync();
        }

        using var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        refused.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }
}
