using System.Net;
using AsyncStreams.Benchmarks.Harness;

namespace AsyncStreams.Benchmarks.Client;

/// <summary>How the load client drives a server.</summary>
internal enum LoadLoop
{
    /// <summary>Each connection sends a message and waits for its echo before sending the next.</summary>
    Closed,

    /// <summary>Messages are sent at a fixed total rate whatever the replies do; latency counts from the
    /// time each message was due, so a stalled server shows in the latency (no coordinated omission).</summary>
    Open,

    /// <summary>Each connection keeps <c>Depth</c> messages in flight.</summary>
    Pipelined,
}

/// <summary>How each connection does its I/O in a closed loop.</summary>
internal enum LoadIo
{
    /// <summary>One thread per connection, blocking socket calls, preallocated buffers.</summary>
    Threads,

    /// <summary>One task per connection on the thread pool, Socket.SendAsync/ReceiveAsync on Memory.</summary>
    Async,
}

/// <summary>Settings of one load-client run.</summary>
internal sealed record LoadOptions(
    IPAddress Address,
    int Port,
    LoadLoop Loop,
    LoadIo Io,
    int Connections,
    int Size,
    double WarmupSeconds,
    double WindowSeconds,
    double Rate,
    int Depth,
    int? ServerPid,
    string? StatsPath)
{
    public IPEndPoint EndPoint => new(Address, Port);

    /// <summary>Reads the client's options; see <see cref="Usage"/>.</summary>
    public static LoadOptions Parse(CliArguments line)
    {
        var options = new LoadOptions(
            line.LoopbackAddress("host"),
            line.Int("port", -1),
            Enum.Parse<LoadLoop>(line.String("loop", "closed"), ignoreCase: true),
            Enum.Parse<LoadIo>(line.String("io", "threads"), ignoreCase: true),
            line.Int("connections", 10),
            line.Int("size", 1024),
            line.Double("warmup", 2),
            line.Double("window", 5),
            line.Double("rate", 20_000),
            line.Int("depth", 1000),
            line.OptionalInt("server-pid"),
            line.String("stats"));
        if (options.Port is < 1 or > 65535)
        {
            throw new ArgumentException("--port is required (1..65535).");
        }

        if (options.Connections is < 1 or > 20_000 || options.Size is < 1 or > 64 << 20 || options.Depth < 1
            || options.WarmupSeconds < 0 || options.WindowSeconds <= 0 || options.Rate <= 0)
        {
            throw new ArgumentException("--connections, --size, --depth, --warmup, --window or --rate is out of range.");
        }

        return options;
    }

    public const string Usage =
        "client --port P [--host 127.0.0.1] [--loop closed|open|pipelined] [--io threads|async]\n" +
        "       [--connections 10] [--size 1024] [--warmup 2] [--window 5] [--rate 20000] [--depth 1000]\n" +
        "       [--server-pid PID] [--stats UNIX-SOCKET-PATH]";

    /// <summary>Builds one message: <c>'x' * (size - 1) + '\n'</c>.</summary>
    public static byte[] Message(int size)
    {
        var message = new byte[size];
        message.AsSpan().Fill((byte)'x');
        message[^1] = (byte)'\n';
        return message;
    }
}
