using System.Globalization;
using System.Text;
using AsyncStreams;
using StreamReader = AsyncStreams.StreamReader;

namespace HttpGetClient;

/// <summary>The status line and header fields of one response, as received.</summary>
internal sealed record HttpResponseHead(int StatusCode, IReadOnlyList<string> Lines, IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    /// <summary>Gets every value of the header field <paramref name="name"/> (case-insensitive), in order.</summary>
    public IEnumerable<string> Values(string name) =>
        Fields.Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value);
}

/// <summary>Reads an HTTP/1.x response from an AsyncStreams reader: the head, then the body by its framing.</summary>
internal sealed class HttpResponseReader
{
    private const int MaxTrailerLines = 100;
    private static readonly byte[] EndOfHead = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly StreamReader _reader;
    private readonly byte[] _buffer = new byte[64 * 1024];

    public HttpResponseReader(StreamReader reader) => _reader = reader;

    /// <summary>Reads a status line and its header fields, up to and including the empty line.</summary>
    /// <exception cref="MalformedResponseException">The head is cut short, too long or not HTTP/1.x.</exception>
    public async Task<HttpResponseHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        byte[] head;
        try
        {
            head = await _reader.ReadUntilAsync(EndOfHead, cancellationToken);
        }
        catch (IncompleteReadException ex)
        {
            throw new MalformedResponseException(ex.Partial.Length == 0
                ? "the server closed the connection without answering"
                : "the connection closed in the middle of the response headers", ex);
        }
        catch (LimitOverrunException ex)
        {
            throw new MalformedResponseException($"the response headers are longer than {_reader.Limit} bytes", ex);
        }

        // Header bytes are ISO-8859-1 by definition (RFC 9110 section 5.5); the separator is not part of the lines.
        var lines = Encoding.Latin1.GetString(head, 0, head.Length - EndOfHead.Length).Split("\r\n");
        var statusCode = ParseStatusLine(lines[0]);
        var fields = new List<KeyValuePair<string, string>>(lines.Length - 1);
        foreach (var line in lines.AsSpan(1))
            fields.Add(ParseField(line));
        return new HttpResponseHead(statusCode, lines, fields);
    }

    /// <summary>Reads the body that follows <paramref name="head"/> and copies it to <paramref name="sink"/> (null discards it).</summary>
    /// <exception cref="MalformedResponseException">The framing is invalid or the connection closes before the body ends.</exception>
    public Task ReadBodyAsync(HttpResponseHead head, Stream? sink, CancellationToken cancellationToken)
    {
        // RFC 9112 section 6.3: these responses never have a body, whatever their headers say.
        if (head.StatusCode is (>= 100 and < 200) or 204 or 304)
            return Task.CompletedTask;

        var codings = string.Join(',', head.Values("Transfer-Encoding"));
        if (codings.Length != 0)
        {
            var last = codings.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            return string.Equals(last, "chunked", StringComparison.OrdinalIgnoreCase)
                ? CopyChunkedAsync(sink, cancellationToken)
                : CopyToEofAsync(sink, cancellationToken);
        }

        var lengths = head.Values("Content-Length")
            .SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (lengths.Count == 0)
            return CopyToEofAsync(sink, cancellationToken);
        if (lengths.Count > 1 || !long.TryParse(lengths[0], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            throw new MalformedResponseException($"invalid Content-Length '{string.Join(", ", lengths)}'");
        return CopyContentLengthAsync(length, sink, cancellationToken);
    }

    private static int ParseStatusLine(string line)
    {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ]
        if (line.Length < 12 || !line.StartsWith("HTTP/1.", StringComparison.Ordinal) || line[8] != ' '
            || !int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            || code < 100 || (line.Length > 12 && line[12] != ' '))
        {
            throw new MalformedResponseException($"not an HTTP/1.x status line: '{Printable(line)}'");
        }

        return code;
    }

    private static KeyValuePair<string, string> ParseField(string line)
    {
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        var name = colon > 0 ? line[..colon] : "";
        if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 0x7f))
            throw new MalformedResponseException($"invalid header line '{Printable(line)}'");
        return new(name, line[(colon + 1)..].Trim(' ', '\t'));
    }

    private async Task CopyContentLengthAsync(long length, Stream? sink, CancellationToken cancellationToken)
    {
        try
        {
            await CopyExactlyAsync(length, sink, cancellationToken);
        }
        catch (IncompleteReadException ex)
        {
            throw new MalformedResponseException($"the connection closed before the end of the body (Content-Length {length})", ex);
        }
    }

    private async Task CopyExactlyAsync(long length, Stream? sink, CancellationToken cancellationToken)
    {
        for (var remaining = length; remaining > 0;)
        {
            var chunk = _buffer.AsMemory(0, (int)Math.Min(_buffer.Length, remaining));
            await _reader.ReadExactlyAsync(chunk, cancellationToken);
            if (sink is not null)
                await sink.WriteAsync(chunk, cancellationToken);
            remaining -= chunk.Length;
        }
    }

    private async Task CopyToEofAsync(Stream? sink, CancellationToken cancellationToken)
    {
        int n;
        while ((n = await _reader.ReadAsync(_buffer, cancellationToken)) > 0)
        {
            if (sink is not null)
                await sink.WriteAsync(_buffer.AsMemory(0, n), cancellationToken);
        }
    }

    private async Task CopyChunkedAsync(Stream? sink, CancellationToken cancellationToken)
    {
        try
        {
            long size;
            while ((size = await ReadChunkSizeAsync(cancellationToken)) > 0)
            {
                await CopyExactlyAsync(size, sink, cancellationToken);
                var end = await _reader.ReadExactlyAsync(CrLf.Length, cancellationToken);
                if (!end.AsSpan().SequenceEqual(CrLf))
                    throw new MalformedResponseException("a chunk is not followed by CRLF");
            }

            // The last chunk is followed by optional trailer fields and an empty line.
            for (var i = 0; ; i++)
            {
                var line = await ReadChunkedLineAsync(cancellationToken);
                if (line.Length == 0)
                    return;
                if (i == MaxTrailerLines)
                    throw new MalformedResponseException($"more than {MaxTrailerLines} trailer fields");
            }
        }
        catch (IncompleteReadException ex)
        {
            throw new MalformedResponseException("the connection closed in the middle of the chunked body", ex);
        }
    }

    private async Task<long> ReadChunkSizeAsync(CancellationToken cancellationToken)
    {
        // chunk-size [ chunk-ext ] CRLF, where chunk-size is hexadecimal.
        var line = await ReadChunkedLineAsync(cancellationToken);
        var semicolon = line.IndexOf(';', StringComparison.Ordinal);
        var digits = (semicolon < 0 ? line : line[..semicolon]).Trim(' ', '\t');
        if (digits.Length is 0 or > 15
            || !long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
        {
            throw new MalformedResponseException($"invalid chunk size line '{Printable(line)}'");
        }

        return size;
    }

    private async Task<string> ReadChunkedLineAsync(CancellationToken cancellationToken)
    {
        byte[] line;
        try
        {
            line = await _reader.ReadLineAsync(cancellationToken);
        }
        catch (LimitOverrunException ex)
        {
            throw new MalformedResponseException($"a chunked-coding line is longer than {_reader.Limit} bytes", ex);
        }

        // ReadLineAsync returns a line without its newline only at EOF.
        if (line.Length == 0 || line[^1] != '\n')
            throw new MalformedResponseException("the connection closed in the middle of the chunked body");
        if (line.Length < 2 || line[^2] != '\r')
            throw new MalformedResponseException("a chunked-coding line does not end with CRLF");
        return Encoding.Latin1.GetString(line, 0, line.Length - 2);
    }

    private static string Printable(string text)
    {
        var shown = text.Length > 60 ? text[..60] + "..." : text;
        return string.Concat(shown.Select(c => c < ' ' || c == 0x7f ? '?' : c));
    }
}
