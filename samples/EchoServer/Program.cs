// The asyncio documentation's TCP echo server on AsyncStreams, plus the line-echo mode that load and
// fault tests drive. Run: dotnet run --project samples/EchoServer -- --port 5000 [--persistent]
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AsyncStreams;
using EchoServer;

if (args is ["-h"] or ["--help"])
{
    Console.WriteLine(ServerArguments.Usage);
    return 0;
}

var arguments = ServerArguments.Parse(args, out var error);
if (arguments is null)
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine(ServerArguments.Usage);
    return 2;
}

Func<AsyncStreams.StreamReader, AsyncStreams.StreamWriter, Task> callback = arguments.Mode switch
{
    EchoMode.HandlerClass => new CountingHandler().HandleAsync,
    EchoMode.Persistent => PersistentEcho.HandleAsync,
    _ => ClassicEcho.HandleAsync,
};

// Ctrl+C (SIGINT) and SIGTERM request a graceful stop instead of killing the process.
using var stop = new CancellationTokenSource();
void RequestStop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, RequestStop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, RequestStop);

StreamServer server;
try
{
    server = await StreamServer.StartAsync(callback, arguments.Host, arguments.Port,
        new StreamServerOptions { Limit = arguments.Limit }, stop.Token);
}
catch (SocketException ex)
{
    Console.Error.WriteLine($"error: cannot listen on {arguments.Host ?? "every interface"} port {arguments.Port}: {ex.Message}");
    return 1;
}
catch (OperationCanceledException)
{
    return 0;
}

await using (server)
{
    Console.WriteLine($"Serving on {string.Join(", ", server.EndPoints)}");

    try
    {
        // Cancelling the token closes the server (no new connections) and ends serving at once,
        // even when the signal came before this call; the live connections are left to us.
        await server.ServeForeverAsync(stop.Token);
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
        // The stop signal: close the connections below.
    }

    // Ask every live connection to send what it has queued and close, then wait for them, boundedly.
    server.Close();
    server.CloseClients();
    using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
    try
    {
        await server.WaitClosedAsync().WaitAsync(grace.Token);
    }
    catch (OperationCanceledException)
    {
        // A peer that does not let its connection close in time is reset rather than waited for.
        Console.Error.WriteLine("Connections still open after 5 s; resetting them.");
        server.AbortClients();
        await server.WaitClosedAsync();
    }
}

Console.WriteLine("Server stopped");
return 0;
