using System.Diagnostics;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>
/// Closed loop, one thread per connection with blocking sockets: send a message, wait for its whole echo,
/// check it, send the next. Buffers are allocated once, before the load starts.
/// </summary>
internal sealed class ClosedLoopThreads(LoadOptions options) : Workload(options)
{
    private readonly List<Thread> _threads = [];

    public override void Start()
    {
        foreach (var lane in Lanes)
        {
            _threads.Add(StartThread($"closed-{_threads.Count}", () => Run(lane)));
        }
    }

    public override bool Join(TimeSpan timeout) => JoinAll(_threads, timeout);

    private void Run(Lane lane)
    {
        var message = Message;
        var reply = new byte[message.Length];
        var socket = lane.Socket;
        try
        {
            for (long i = 1; i <= MaxMessages && !Stopping; i++)
            {
                var sent = Stopwatch.GetTimestamp();
                Sockets.SendAll(socket, message);
                Sockets.ReceiveExactly(socket, reply);
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
            // The run is over and the connection was closed under the thread: not an error.
        }
    }
}
