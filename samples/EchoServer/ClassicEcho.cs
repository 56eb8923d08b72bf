using StreamReader = AsyncStreams.StreamReader;
using StreamWriter = AsyncStreams.StreamWriter;

namespace EchoServer;

/// <summary>The asyncio documentation's TCP echo server callback, line for line.</summary>
internal static class ClassicEcho
{
    /// <summary>Reads up to 100 bytes, prints them, echoes them, drains, closes and waits until closed.</summary>
    public static async Task HandleAsync(StreamReader reader, StreamWriter writer)
    {
        var peer = writer.GetExtraInfo("peername");
        try
        {
            var data = await reader.ReadAsync(100);
            var message = Repr.Of(data);
            Console.WriteLine($"Received {message} from {peer}");

            Console.WriteLine($"Send: {message}");
            writer.Write(data);
            await writer.DrainAsync();
        }
        catch (IOException ex)
        {
            // A peer that resets the connection ends only its own conversation.
            Console.Error.WriteLine($"Connection from {peer} failed: {ex.Message}");
        }

        Console.WriteLine("Close the connection");
        writer.Close();
        await writer.WaitClosedAsync();
    }
}
