// An HTTP/1.1 GET client on AsyncStreams, after the asyncio documentation's "get HTTP headers" example:
// open a connection (TLS for https://), send the request, read the head and the body by its framing.
// Run: dotnet run --project samples/HttpGetClient -- https://example.com/ [--body] [--ca-file root.pem]
using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using AsyncStreams;
using HttpGetClient;

const string Usage = """
    Usage: HttpGetClient <url> [--body] [--ca-file path.pem] [--timeout seconds]

      url             http://host[:port]/path (port 80 by default) or https://host[:port]/path (port 443).
      --body          Print the body after the status line and headers.
      --ca-file PATH  Also trust the root certificates in this PEM file (for private servers).
                      Certificate and host name validation always stay on.
      --timeout S     Give up after S seconds (default 30).

    Exit code 0 when a complete response arrived (whatever its status), 1 on an error, 2 on bad usage.
    """;

string? url = null;
string? caFile = null;
var printBody = false;
var timeoutSeconds = 30;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "-h" or "--help":
            Console.WriteLine(Usage);
            return 0;
        case "--body":
            printBody = true;
            break;
        case "--ca-file":
            if (i + 1 >= args.Length)
                return UsageError("--ca-file expects a path");
            caFile = args[++i];
            break;
        case "--timeout":
            if (i + 1 >= args.Length || !int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out timeoutSeconds) || timeoutSeconds == 0)
                return UsageError("--timeout expects a positive number of seconds");
            break;
        default:
            if (args[i].StartsWith("--", StringComparison.Ordinal) || url is not null)
                return UsageError($"unexpected argument '{args[i]}'");
            url = args[i];
            break;
    }
}

if (url is null)
    return UsageError("a URL is required");

if (!HttpTarget.TryParse(url, out var target, out var reason))
    return Fail(reason);

CaFileTrust? trust = null;
if (caFile is not null)
{
    try
    {
        trust = CaFileTrust.Load(caFile);
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
    {
        return Fail($"cannot read CA file '{caFile}': {OneLine(ex.Message)}");
    }
}

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
var ct = timeout.Token;
var endpoint = $"{target.Host} port {target.Port}";
try
{
    var (reader, writer) = (target.UseTls, trust) switch
    {
        (false, _) => await Streams.OpenConnectionAsync(target.Host, target.Port, cancellationToken: ct),
        (true, null) => await Streams.OpenConnectionAsync(target.Host, target.Port, ssl: true, cancellationToken: ct),
        (true, { } extraRoots) => await Streams.OpenConnectionAsync(target.Host, target.Port, extraRoots.CreateOptions(target.Host), cancellationToken: ct),
    };

    await using (writer)
    {
        writer.Write(target.BuildRequest());
        try
        {
            await writer.DrainAsync(ct);
        }
        catch (IOException)
        {
            // The server may send its whole response and close (the request says Connection: close) before this
            // drain runs, and a TLS connection closes as soon as its peer does, so the drain reports the connection
            // lost (as asyncio's drain() does). The response is still in the reader; if the request really was not
            // delivered, reading the response reports the failure.
        }

        var response = new HttpResponseReader(reader);
        var head = await response.ReadHeadAsync(ct);

        // Interim 1xx responses (100 Continue, 103 Early Hints) come before the final one; a bounded
        // number of them is shown as received.
        for (var interim = 0; head.StatusCode < 200; interim++)
        {
            if (interim == 10)
                throw new MalformedResponseException("more than 10 interim (1xx) responses");
            PrintHead(head);
            head = await response.ReadHeadAsync(ct);
        }

        PrintHead(head);
        if (printBody)
        {
            Console.WriteLine();
            await using var stdout = Console.OpenStandardOutput();
            await response.ReadBodyAsync(head, stdout, ct);
            await stdout.FlushAsync(ct);
        }
        else
        {
            // The body is still read to the end, so a response cut short is reported even when not shown.
            await response.ReadBodyAsync(head, null, ct);
        }

        writer.Close();
        await writer.WaitClosedAsync();
    }

    return 0;
}
catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
{
    return Fail($"connection to {endpoint} refused");
}
catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
{
    return Fail($"cannot resolve host '{target.Host}': {OneLine(ex.Message)}");
}
catch (SocketException ex)
{
    return Fail($"cannot connect to {endpoint}: {OneLine(ex.Message)}");
}
catch (AuthenticationException ex)
{
    return Fail($"TLS handshake with {endpoint} failed: {OneLine(trust?.Failure ?? ex.Message)}");
}
catch (TimeoutException)
{
    return Fail($"TLS handshake with {endpoint} timed out");
}
catch (MalformedResponseException ex)
{
    return Fail($"malformed response from {endpoint}: {OneLine(ex.Message)}");
}
catch (IOException ex)
{
    return Fail($"connection to {endpoint} lost: {OneLine(ex.Message)}");
}
catch (OperationCanceledException) when (timeout.IsCancellationRequested)
{
    return Fail($"no complete response from {endpoint} within {timeoutSeconds} s");
}

static void PrintHead(HttpResponseHead head)
{
    foreach (var line in head.Lines)
        Console.WriteLine(line);
}

static string OneLine(string text) => text.ReplaceLineEndings(" ");

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
