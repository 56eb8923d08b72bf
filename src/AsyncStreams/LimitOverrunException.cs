namespace AsyncStreams;

/// <summary>
/// Thrown when a separator is not found within the reader's <see cref="StreamReader.Limit"/> bytes.
/// </summary>
/// <remarks>
/// asyncio equivalent: <c>asyncio.LimitOverrunError</c>. After <c>StreamReader.ReadUntilAsync</c>
/// throws it the data stays in the reader's buffer; <see cref="Consumed"/> says how many bytes to read to get past it.
/// </remarks>
public sealed class LimitOverrunException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message that describes the overrun.</param>
    /// <param name="consumed">The number of bytes to consume to get past the data seen so far.</param>
    public LimitOverrunException(string message, int consumed)
        : base(message)
    {
        Consumed = consumed;
    }

    /// <summary>Gets the number of bytes to consume to get past the data seen so far.</summary>
    public int Consumed { get; }
}
