using AsyncStreams;
using StreamReader = AsyncStreams.StreamReader;
using StreamWriter = AsyncStreams.StreamWriter;

namespace EchoServer;

/// <summary>Echoes every line until the client closes; the mode load and fault tests drive.</summary>
internal static class PersistentEcho
{
    private static readonly byte[] LineTooLong = "ERROR line too long\n"u8.ToArray();

    /// <summary>Echoes lines until EOF; answers an over-long line with an error and closes that connection only.</summary>
    public static async Task HandleAsync(StreamReader reader, StreamWriter writer)
    {
        try
        {
            while (true)
            {
                byte[] line;
                try
                {
                    line = await reader.ReadLineAsync();
                }
                catch (LimitOverrunException)
                {
                    // The reader has already dropped what it buffered of the line; this protocol ends the conversation.
                    writer.Write(LineTooLong);
                    await LingerAsync(reader, writer);
                    break;
                }

                if (line.Length == 0)
                    break;

                writer.Write(line);

                // Completes synchronously while the queued bytes are under the high-water mark, so a
                // client that reads its echoes costs no extra await; one that does not is paused here.
                await writer.DrainAsync();
            }
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"Connection from {writer.GetExtraInfo("peername")} failed: {ex.Message}");
        }
        finally
        {
            writer.Close();
            await writer.WaitClosedAsync();
        }
    }

    // Closing a socket while the peer's bytes are still unread makes the kernel reset the connection,
    // and a reset can destroy the error message before the client reads it. So: half-close after the
    // message, then discard what the client still sends until it closes too, within bounds, so a
    // client that never stops cannot hold the connection open.
    private static async Task LingerAsync(StreamReader reader, StreamWriter writer)
    {
        if (writer.CanWriteEof)
            writer.WriteEof();

        using var linger = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var discarded = 0L;
        try
        {
            while (discarded < 1024 * 1024)
            {
                var chunk = await reader.ReadAsync(Streams.DefaultLimit, linger.Token);
                if (chunk.Length == 0)
                    break;
                discarded += chunk.Length;
            }
        }
        catch (OperationCanceledException)
        {
            // The client kept the connection open past the grace period: close it anyway.
        }
    }
}
