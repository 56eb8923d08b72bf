// The asyncio documentation's TCP echo client on AsyncStreams: connect, send one line, print the answer, close.
// Run: dotnet run --project samples/EchoClient -- [--host 127.0.0.1] [--port 5000] [message]
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using AsyncStreams;
using EchoClient;

const string Usage = """
    Usage: EchoClient [--host 127.0.0.1] [--port 5000] [message]

      --host HOST   Server name or address (default 127.0.0.1).
      --port PORT   Server port (default 5000).
      message       Text to send, followed by a newline (default "Hello World!").

    Sends the message, half-closes the connection, prints everything the server sends back
    until it closes, then closes. Exit code 0 on success, 1 on a connection error, 2 on bad usage.
    """;

var host = "127.0.0.1";
var port = 5000;
string? message = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "-h" or "--help":
            Console.WriteLine(Usage);
            return 0;
        case "--host" or "--port" when i + 1 == args.Length:
            return UsageError($"{args[i]} expects a value");
        case "--host":
            host = args[++i];
            break;
        case "--port":
            if (!int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is 0 or > 65535)
                return UsageError($"--port expects a number from 1 to 65535, not '{args[i]}'");
            break;
        default:
            if (args[i].StartsWith('-') || message is not null)
                return UsageError($"unexpected argument '{args[i]}'");
            message = args[i];
            break;
    }
}

message ??= "Hello World!";

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
try
{
    var (reader, writer) = await Streams.OpenConnectionAsync(host, port, cancellationToken: timeout.Token);
    await using (writer)
    {
        Console.WriteLine($"Send: {Repr.Of(Encoding.UTF8.GetBytes(message))}");
        writer.Write(Encoding.UTF8.GetBytes(message + "\n"));
        await writer.DrainAsync(timeout.Token);

        // Half-close: the server sees EOF after the line, so a line-echo server ends the conversation
        // too, and everything it sends until it closes is the answer.
        if (writer.CanWriteEof)
            writer.WriteEof();

        var data = await reader.ReadAsync(-1, timeout.Token);
        Console.WriteLine($"Received: {Repr.Of(data)}");

        Console.WriteLine("Close the connection");
        writer.Close();
        await writer.WaitClosedAsync();
    }

    return 0;
}
catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
{
    return Fail($"connection to {host} port {port} refused");
}
catch (SocketException ex)
{
    return Fail($"cannot connect to {host} port {port}: {ex.Message}");
}
catch (IOException ex)
{
    return Fail($"connection to {host} port {port} lost: {ex.Message}");
}
catch (OperationCanceledException) when (timeout.IsCancellationRequested)
{
    return Fail($"no answer from {host} port {port} within 30 s");
}

static int Fail(string message)
{
    Console.Error.WriteLine($"error: {message}");
    return 1;
}

static int UsageError(string message)
{
    Console.Error.WriteLine($"error: {message}");
    Console.Error.WriteLine(Usage);
    return 2;
}
