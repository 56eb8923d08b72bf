using System.Globalization;

namespace AsyncStreams;

/// <summary>
/// Thrown when the end of the stream is reached before the expected number of bytes, or before a separator.
/// </summary>
/// <remarks>asyncio equivalent: <c>asyncio.IncompleteReadError</c>.</remarks>
public sealed class IncompleteReadException : EndOfStreamException
{
    /// <summary>Creates the exception with the bytes read before the end of the stream.</summary>
    /// <param name="partial">The bytes read before the end of the stream.</param>
    /// <param name="expected">The number of bytes expected, or <see langword="null"/> when reading until a separator.</param>
    /// <exception cref="ArgumentNullException"><paramref name="partial"/> is <see langword="null"/>.</exception>
    public IncompleteReadException(byte[] partial, int? expected)
        : base(FormatMessage(partial, expected))
    {
        Partial = partial;
        Expected = expected;
    }

    /// <summary>Gets the bytes read before the end of the stream; they are no longer in the reader's buffer.</summary>
    public byte[] Partial { get; }

    /// <summary>Gets the number of bytes that were expected, or <see langword="null"/> when reading until a separator.</summary>
    public int? Expected { get; }

    private static string FormatMessage(byte[] partial, int? expected)
    {
        ArgumentNullException.ThrowIfNull(partial);
        return expected is int n
            ? string.Format(CultureInfo.InvariantCulture, "{0} bytes read on a total of {1} expected bytes", partial.Length, n)
            : string.Format(CultureInfo.InvariantCulture, "{0} bytes read before the end of the stream; the separator was not found", partial.Length);
    }
}
