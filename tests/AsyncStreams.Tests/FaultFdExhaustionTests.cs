using System.Diagnostics;
using System.Net.Sockets;
using AsyncStreams.Internal;

namespace AsyncStreams.Tests;

/// <summary>
/// Accept with the process out of file descriptors: the real EMFILE, made by lowering RLIMIT_NOFILE and filling the
/// descriptors that remain. The server backs off instead of spinning, and serves the waiting clients once descriptors
/// are free again.
/// </summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultFdExhaustionTests
{
    [Fact]
    public async Task Accept_OutOfFileDescriptors_BacksOffThenServesTheWaitingClients()
    {
        Assert.True(OperatingSystem.IsLinux(), "This host is Linux; the test relies on /proc and RLIMIT_NOFILE.");
        var original = FileDescriptors.GetLimit() ?? throw new InvalidOperationException("getrlimit(RLIMIT_NOFILE) failed.");
        using var cts = Soak.Bound(30);
        var guard = await LeakGuard.StartAsync();
        var delay = TimeSpan.FromMilliseconds(100);
        var failures = new List<(long At, SocketError Error)>();
        var twoFailures = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new ServerHooks
        {
            AcceptRetryDelay = delay,
            Accept = async (listener, cancellationToken) =>
            {
                try
                {
                    return await listener.AcceptAsync(cancellationToken);
                }
                catch (SocketException ex)
                {
                    lock (failures)
                    {
                        failures.Add((Stopwatch.GetTimestamp(), ex.SocketErrorCode));
                        if (failures.Count == 2)
                        {
                            twoFailures.TrySetResult();
                        }
                    }

                    throw;
                }
            },
        };

        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, "127.0.0.1", 0, null, hooks, cts.Token);
        await using (ServerTestKit.Guard(server))
        {
            // The clients' sockets exist before the descriptors run out; connecting needs none of its own.
            var clients = Enumerable.Range(0, 3).Select(_ => new Socket(SocketType.Stream, ProtocolType.Tcp)).ToArray();
            var filler = new List<int>();
            long exhaustedAt;
            try
            {
                Assert.True(FileDescriptors.TrySetSoftLimit((ulong)Directory.GetFileSystemEntries("/proc/self/fd").Length + 32), "setrlimit was refused");
                filler = FileDescriptors.FillUntilExhausted(10_000);
                exhaustedAt = Stopwatch.GetTimestamp();
                foreach (var client in clients)
                {
                    await client.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);
                }

                await twoFailures.Task.WaitAsync(cts.Token);
            }
            finally
            {
                FileDescriptors.Close(filler);
                Assert.True(FileDescriptors.TrySetSoftLimit(original.Soft), "the original limit could not be restored");
            }

            var released = Stopwatch.GetTimestamp();

            // Every waiting client is served once the server accepts again.
            foreach (var client in clients)
            {
                using (client)
                {
                    await ServerTestKit.SendAsync(client, "after exhaustion\n", cts.Token);
                    Assert.Equal("after exhaustion\n"u8.ToArray(), await ServerTestKit.ReceiveExactlyAsync(client, 17, cts.Token));
                }
            }

            lock (failures)
            {
                Assert.All(failures, f => Assert.Equal(SocketError.TooManyOpenSockets, f.Error));

                // It backed off between failed accepts (timers never fire early by more than their resolution) ...
                for (var i = 1; i < failures.Count; i++)
                {
                    Assert.True(Stopwatch.GetElapsedTime(failures[i - 1].At, failures[i].At) >= delay - TimeSpan.FromMilliseconds(20));
                }

                // ... so the failures are few: at most one per back-off while descriptors were exhausted, not a spin.
                var exhausted = Stopwatch.GetElapsedTime(exhaustedAt, released);
                Assert.InRange(failures.Count, 2, (int)(exhausted / delay) + 2);
            }
        }

        await guard.AssertCleanAsync();
    }
}
