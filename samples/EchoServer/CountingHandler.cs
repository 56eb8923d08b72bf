using StreamReader = AsyncStreams.StreamReader;
using StreamWriter = AsyncStreams.StreamWriter;

namespace EchoServer;

/// <summary>
/// A connection callback held by an object, for handlers that need state shared by every connection:
/// here a connection counter. Pass <c>handler.HandleAsync</c> where the callback is expected
/// (asyncio: an object with <c>__call__</c> passed to <c>asyncio.start_server</c>).
/// </summary>
internal sealed class CountingHandler
{
    private static readonly byte[] Response = "Response data"u8.ToArray();
    private int _connections;

    /// <summary>Gets the number of connections handled so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Reads up to 8192 bytes, prints them, answers <c>Response data</c> and closes.</summary>
    public async Task HandleAsync(StreamReader reader, StreamWriter writer)
    {
        // Callbacks run concurrently, one per connection, so shared state is updated atomically.
        var number = Interlocked.Increment(ref _connections);
        var peer = writer.GetExtraInfo("peername");
        try
        {
            var data = await reader.ReadAsync(8192);
            Console.WriteLine($"Connection #{number} from {peer}: {Repr.Of(data)}");
            writer.Write(Response);
            await writer.DrainAsync();
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"Connection #{number} from {peer} failed: {ex.Message}");
        }
        finally
        {
            writer.Close();
            await writer.WaitClosedAsync();
        }
    }
}
