using System.Diagnostics;
using System.Net.Sockets;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>
/// Closed loop with one asynchronous task per connection on the thread pool, using the allocation-free
/// Socket.SendAsync/ReceiveAsync overloads on preallocated Memory.
/// </summary>
internal sealed class ClosedLoopAsync(LoadOptions options) : Workload(options)
{
    private readonly List<Task> _tasks = [];

    public override void Start()
    {
        foreach (var lane in Lanes)
        {
            _tasks.Add(Task.Run(() => RunAsync(lane)));
        }
    }

    public override bool Join(TimeSpan timeout) => Task.WaitAll([.. _tasks], timeout);

    private async Task RunAsync(Lane lane)
    {
        var message = Message;
        var reply = new byte[message.Length];
        var socket = lane.Socket;
        try
        {
            for (long i = 1; i <= MaxMessages && !Stopping; i++)
            {
                var sent = Stopwatch.GetTimestamp();
                ReadOnlyMemory<byte> pending = message;
                while (!pending.IsEmpty)
                {
                    pending = pending[await socket.SendAsync(pending, SocketFlags.None)..];
                }

                Memory<byte> free = reply;
                while (!free.IsEmpty)
                {
                    var n = await socket.ReceiveAsync(free, SocketFlags.None);
                    if (n == 0)
                    {
                        throw new EndOfStreamException("The server closed the connection before the echo was complete.");
                    }

                    free = free[n..];
                }

                var received = Stopwatch.GetTimestamp();
                if (!reply.AsSpan().SequenceEqual(message))
                {
                    throw new InvalidDataException("The server's echo differs from the message sent.");
                }

                if (Measuring)
                {
                    lane.Histogram.RecordTicks(received - sent);
                }

                Volatile.Write(ref lane.Completed, i);
            }
        }
        catch (Exception e) when (!Stopping)
        {
            lane.Error = e.Message;
        }
        catch (Exception)
        {
            // The run is over and the connection was closed under the task: not an error.
        }
    }
}
