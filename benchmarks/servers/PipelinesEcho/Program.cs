using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace PipelinesEcho;

/// <summary>
/// Echo server written directly on <see cref="Socket"/> and System.IO.Pipelines, the way Kestrel's socket
/// transport is built: a receive loop that waits for data with a zero-byte receive before renting a pooled
/// buffer, a pipe to the processing loop, and sends straight from the pipe's buffers (no copy).
/// Usage: PipelinesEcho --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS].
/// Listens on 127.0.0.1 only, TCP_NODELAY on. Line mode echoes every complete line buffered (everything up
/// to the last '\n') with one send; read mode echoes what it received. While a send is pending nothing is
/// consumed from the pipe, so a peer that does not read stops the receive loop once the pipe is full.
/// A line longer than --limit closes its connection. The process exits after --lifetime seconds.
/// </summary>
internal static class Program
{
    private const long MaxAccepts = 10_000_000;

    public static async Task<int> Main(string[] args)
    {
        var options = ServerArguments.Parse(args);
        if (options is null)
        {
            await Console.Error.WriteLineAsync("usage: PipelinesEcho --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS]");
            return 2;
        }

        using var lifetime = new CancellationTokenSource(TimeSpan.FromSeconds(options.LifetimeSeconds));
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, options.Port));
        listener.Listen(1024);
        Console.WriteLine($"listening on {listener.LocalEndPoint}");

        try
        {
            for (long i = 0; i < MaxAccepts; i++)
            {
                var socket = await listener.AcceptAsync(lifetime.Token);
                socket.NoDelay = true;
                _ = new EchoConnection(socket, options).RunAsync();
            }
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
            // The lifetime is over: stop serving.
        }

        return 0;
    }
}

internal sealed class EchoConnection
{
    private const int SegmentSize = 16384;

    private readonly Socket _socket;
    private readonly ServerArguments _options;
    private readonly Pipe _pipe;
    private readonly List<ArraySegment<byte>> _gather = [];

    public EchoConnection(Socket socket, ServerArguments options)
    {
        _socket = socket;
        _options = options;

        // Inline schedulers: the processing loop runs on whichever thread completed the receive, so the
        // only scheduling decision left is the socket engine's (thread pool or inline completions).
        _pipe = new Pipe(new PipeOptions(
            pool: MemoryPool<byte>.Shared,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: options.Limit + SegmentSize,
            resumeWriterThreshold: (options.Limit + SegmentSize) / 2,
            minimumSegmentSize: SegmentSize,
            useSynchronizationContext: false));
    }

    public async Task RunAsync()
    {
        try
        {
            var receiving = ReceiveAsync();
            try
            {
                await ProcessAsync();
            }
            finally
            {
                // Closing the socket ends a receive still waiting on a peer that will not send any more.
                _socket.Dispose();
            }

            await receiving;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            // The peer reset or the line was too long: this connection ends, the server goes on.
        }
    }

    private async Task ReceiveAsync()
    {
        var writer = _pipe.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                // Wait for data before taking a buffer, so an idle connection holds none.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                var memory = writer.GetMemory(SegmentSize);
                var n = await _socket.ReceiveAsync(memory, SocketFlags.None);
                if (n == 0)
                {
                    break;
                }

                writer.Advance(n);
                var flush = await writer.FlushAsync();
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            error = e;
        }

        await writer.CompleteAsync(error);
    }

    private async Task ProcessAsync()
    {
        var reader = _pipe.Reader;
        var lineMode = _options.LineMode;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                var end = lineMode ? AfterLastNewLine(buffer) : buffer.End;
                if (end is { } position && !buffer.Slice(0, position).IsEmpty)
                {
                    await SendAsync(buffer.Slice(0, position));
                    reader.AdvanceTo(position, buffer.End);
                }
                else
                {
                    if (buffer.Length > _options.Limit)
                    {
                        break;
                    }

                    reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static SequencePosition? AfterLastNewLine(in ReadOnlySequence<byte> buffer)
    {
        SequencePosition? found = null;
        var position = buffer.Start;
        var current = position;
        while (buffer.TryGet(ref position, out var segment))
        {
            var index = segment.Span.LastIndexOf((byte)'\n');
            if (index >= 0)
            {
                found = buffer.GetPosition(index + 1, current);
            }

            current = position;
        }

        return found;
    }

    private async ValueTask SendAsync(ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            var memory = data.First;
            while (!memory.IsEmpty)
            {
                var sent = await _socket.SendAsync(memory, SocketFlags.None);
                memory = memory[sent..];
            }

            return;
        }

        // Several pooled segments: one gathered send.
        _gather.Clear();
        foreach (var segment in data)
        {
            if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(segment, out var array))
            {
                throw new InvalidOperationException("The pipe's pool is expected to hand out array-backed memory.");
            }

            _gather.Add(array);
        }

        var total = (int)data.Length;
        var sentTotal = await _socket.SendAsync(_gather, SocketFlags.None);
        if (sentTotal != total)
        {
            await SendRemainderAsync(data.Slice(sentTotal));
        }
    }

    private async ValueTask SendRemainderAsync(ReadOnlySequence<byte> rest)
    {
        foreach (var segment in rest)
        {
            var memory = segment;
            while (!memory.IsEmpty)
            {
                var sent = await _socket.SendAsync(memory, SocketFlags.None);
                memory = memory[sent..];
            }
        }
    }
}
