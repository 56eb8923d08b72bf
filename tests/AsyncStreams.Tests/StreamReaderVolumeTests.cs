using System.Buffers.Text;
using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

public class StreamReaderVolumeTests : BoundedReaderTest
{
    private const int Lines = 1_000_000;

    [Fact]
    public async Task GetAsyncEnumerator_MillionLinesFromReceiveLoopThread_ArriveInOrder()
    {
        // A receive loop on its own thread writes numbered lines in uneven chunks through Input, honouring
        // WaitForRoomAsync; the reader checks every line.
        var reader = new StreamReader(limit: 4096);
        var receiveLoop = OnOtherThread(() =>
        {
            var random = new Random(42);
            var next = 0;
            Span<byte> line = stackalloc byte[16];
            while (next < Lines)
            {
                var memory = reader.Input.GetMemory(2048);
                var room = Math.Min(memory.Length, random.Next(1, 2048));
                var written = 0;
                while (next < Lines && Utf8Formatter.TryFormat(next, line, out var digits))
                {
                    line[digits] = (byte)'\n';
                    if (written + digits + 1 > room)
                    {
                        break;
                    }

                    line[..(digits + 1)].CopyTo(memory.Span[written..]);
                    written += digits + 1;
                    next++;
                }

                reader.Input.Advance(written);
                reader.Input.FlushAsync(Ct).AsTask().GetAwaiter().GetResult();
                reader.WaitForRoomAsync(Ct).AsTask().GetAwaiter().GetResult();
            }

            reader.FeedEof();
        });

        var expected = 0;
        await foreach (var line in reader.WithCancellation(Ct))
        {
            Assert.True(Utf8Parser.TryParse(line, out int number, out var consumed) && consumed == line.Length - 1 && number == expected);
            expected++;
        }

        await receiveLoop.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(Lines, expected);
    }
}
