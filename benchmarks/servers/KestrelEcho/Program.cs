using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PipelinesEcho;

namespace KestrelEcho;

/// <summary>
/// Echo server on Kestrel's connection layer (no HTTP): a <see cref="ConnectionHandler"/> over Kestrel's
/// socket transport, with its defaults (TCP_NODELAY on, its own I/O queues; inline scheduling only when
/// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, which Kestrel honours too).
/// Usage: KestrelEcho --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS].
/// Listens on 127.0.0.1 only. Line mode echoes every complete line buffered; read mode echoes what it
/// read. Kestrel's output buffer limit makes FlushAsync wait for a peer that does not read, and its input
/// buffer limit then stops reading, so memory stays bounded.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var options = ServerArguments.Parse(args);
        if (options is null)
        {
            await Console.Error.WriteLineAsync("usage: KestrelEcho --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS]");
            return 2;
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(options);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            // The input pipe must hold the longest line allowed before it stops reading.
            kestrel.Limits.MaxRequestBufferSize = options.Limit + 65536;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen => listen.UseConnectionHandler<EchoHandler>());
        });

        await using var app = builder.Build();
        using var lifetime = new CancellationTokenSource(TimeSpan.FromSeconds(options.LifetimeSeconds));
        await app.StartAsync(lifetime.Token);
        Console.WriteLine($"listening on 127.0.0.1:{options.Port}");
        try
        {
            await Task.Delay(Timeout.Infinite, lifetime.Token);
        }
        catch (OperationCanceledException)
        {
            // The lifetime is over: stop serving.
        }

        await app.StopAsync(CancellationToken.None);
        return 0;
    }
}

internal sealed class EchoHandler(ServerArguments options) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                var end = options.LineMode ? AfterLastNewLine(buffer) : buffer.End;
                if (end is { } position && !buffer.Slice(0, position).IsEmpty)
                {
                    foreach (var segment in buffer.Slice(0, position))
                    {
                        output.Write(segment.Span);
                    }

                    input.AdvanceTo(position, buffer.End);
                    var flush = await output.FlushAsync();
                    if (flush.IsCompleted)
                    {
                        break;
                    }
                }
                else
                {
                    if (buffer.Length > options.Limit)
                    {
                        break;
                    }

                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
            // The peer reset: this connection ends, the server goes on.
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
}
