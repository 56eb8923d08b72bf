using System.Globalization;
using AsyncStreams;

namespace EchoServer;

/// <summary>Which connection handler the server runs.</summary>
internal enum EchoMode
{
    /// <summary>Read up to 100 bytes, echo them, close: the asyncio documentation's echo server.</summary>
    Classic,

    /// <summary>The classic server with its callback held by a class instance that keeps state.</summary>
    HandlerClass,

    /// <summary>Echo every line until the client closes.</summary>
    Persistent,
}

/// <summary>The parsed command line of the echo server.</summary>
internal sealed record ServerArguments(string? Host, int Port, EchoMode Mode, int Limit)
{
    public const string Usage = """
        Usage: EchoServer [--host 127.0.0.1] [--port 5000] [--persistent | --handler-class] [--limit N]

          --host HOST       Address or name to listen on (default 127.0.0.1; "" listens on every interface).
          --port PORT       Port to listen on (default 5000; 0 picks a free port, printed in "Serving on ...").
          --persistent      Echo every line until the client closes; an over-long line gets "ERROR line too long".
          --handler-class   Serve with a handler object that keeps state: read, print, answer "Response data".
          --limit N         Reader limit in bytes, the longest line accepted (default 65536).
          -h, --help        Show this help.

        Ctrl+C or SIGTERM stops accepting, closes the live connections gracefully and exits with code 0.
        """;

    /// <summary>Parses the command line; returns null and sets <paramref name="error"/> when it is not valid.</summary>
    public static ServerArguments? Parse(string[] args, out string? error)
    {
        string? host = "127.0.0.1";
        var port = 5000;
        var mode = EchoMode.Classic;
        var limit = Streams.DefaultLimit;
        error = null;

        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--host":
                    if (!TryTakeValue(args, ref i, out var h, ref error))
                        return null;
                    host = h.Length == 0 ? null : h;
                    break;
                case "--port":
                    if (!TryTakeValue(args, ref i, out var p, ref error))
                        return null;
                    if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
                    {
                        error = $"--port expects a number from 0 to 65535, not '{p}'";
                        return null;
                    }

                    break;
                case "--limit":
                    if (!TryTakeValue(args, ref i, out var l, ref error))
                        return null;
                    if (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit <= 0)
                    {
                        error = $"--limit expects a positive number of bytes, not '{l}'";
                        return null;
                    }

                    break;
                case "--persistent":
                case "--handler-class":
                    var requested = args[i] == "--persistent" ? EchoMode.Persistent : EchoMode.HandlerClass;
                    if (mode != EchoMode.Classic && mode != requested)
                    {
                        error = "--persistent and --handler-class cannot be combined";
                        return null;
                    }

                    mode = requested;
                    break;
                default:
                    error = $"unknown argument '{args[i]}'";
                    return null;
            }
        }

        return new ServerArguments(host, port, mode, limit);
    }

    private static bool TryTakeValue(string[] args, ref int i, out string value, ref string? error)
    {
        if (i + 1 >= args.Length)
        {
            value = "";
            error = $"{args[i]} expects a value";
            return false;
        }

        value = args[++i];
        return true;
    }
}
