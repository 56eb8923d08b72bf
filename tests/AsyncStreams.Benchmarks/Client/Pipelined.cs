using System.Diagnostics;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>
/// Pipelined load: each connection keeps <c>Depth</c> messages in flight. It sends Depth messages, then
/// every time echoes come back it sends as many new messages as it received complete ones, in one send.
/// Latency is from each message's send to the read that completed its echo.
/// </summary>
internal sealed class Pipelined(LoadOptions options) : Workload(options)
{
    private readonly List<Thread> _threads = [];

    public override void Start()
    {
        foreach (var lane in Lanes)
        {
            _threads.Add(StartThread($"pipelined-{_threads.Count}", () => Run(lane)));
        }
    }

    public override bool Join(TimeSpan timeout) => JoinAll(_threads, timeout);

    private void Run(Lane lane)
    {
        var size = Message.Length;
        var depth = Options.Depth;
        var batch = new byte[size * depth];
        for (var i = 0; i < depth; i++)
        {
            Message.CopyTo(batch, i * size);
        }

        var sentAt = new long[depth];
        var buffer = new byte[Math.Max(65536, size)];
        var socket = lane.Socket;
        long sentCount = depth, doneCount = 0, partial = 0;
        try
        {
            sentAt.AsSpan().Fill(Stopwatch.GetTimestamp());
            Sockets.SendAll(socket, batch);
            for (long i = 0; i < MaxMessages && !Stopping; i++)
            {
                var n = socket.Receive(buffer);
                if (n == 0)
                {
                    throw new EndOfStreamException("The server closed the connection with messages in flight.");
                }

                var now = Stopwatch.GetTimestamp();
                var total = partial + n;
                var complete = (int)(total / size);
                partial = total % size;
                if (buffer.AsSpan(0, n).Count((byte)'\n') != complete)
                {
                    throw new InvalidDataException("The server's echo does not have the shape of the messages sent.");
                }

                for (var m = 0; m < complete; m++)
                {
                    if (Measuring)
                    {
                        lane.Histogram.RecordTicks(now - sentAt[(doneCount + m) % depth]);
                    }
                }

                doneCount += complete;
                Volatile.Write(ref lane.Completed, doneCount);
                if (complete > 0)
                {
                    for (var m = 0; m < complete; m++)
                    {
                        sentAt[(sentCount + m) % depth] = now;
                    }

                    sentCount += complete;
                    Sockets.SendAll(socket, batch.AsSpan(0, complete * size));
                }
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
