namespace AsyncStreams;

/// <summary>A writer of a byte stream.</summary>
public sealed class StreamWriter
{
    /// <summary>Waits for the write buffer to drain.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when drained.</returns>
    public ValueTask DrainAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
