namespace AsyncStreams;

/// <summary>A buffered reader of a byte stream.</summary>
public sealed class StreamReader
{
    /// <summary>Creates a reader.</summary>
    /// <param name="limit">The buffer limit.</param>
    public StreamReader(int limit = Streams.DefaultLimit) => Limit = limit;

    /// <summary>Gets the buffer limit.</summary>
    public int Limit { get; }
}
