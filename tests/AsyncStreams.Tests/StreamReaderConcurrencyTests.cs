using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

// One read at a time (asyncio raises RuntimeError from _wait_for_data); a feeder may run on another thread.
public class StreamReaderConcurrencyTests : BoundedReaderTest
{
    public static TheoryData<string, string> ReadKindPairs
    {
        get
        {
            var pairs = new TheoryData<string, string>();
            foreach (var first in ReadKind.All)
            {
                foreach (var second in ReadKind.All)
                {
                    pairs.Add(first, second);
                }
            }

            return pairs;
        }
    }

    [Theory]
    [MemberData(nameof(ReadKindPairs))]
    public async Task ReadKind_WhileAnotherReadPends_ThrowsInvalidOperationNamingMethods(string first, string second)
    {
        var reader = new StreamReader();
        var pending = ReadKind.RunAsync(first, reader, 4, Ct);
        Assert.False(pending.IsCompleted);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ReadKind.RunAsync(second, reader, 4, Ct));
        Assert.Contains(MethodName(second), error.Message, StringComparison.Ordinal);
        Assert.Contains(MethodName(first), error.Message, StringComparison.Ordinal);

        // The pending read is unharmed by the refused one.
        reader.FeedData(Ascii("abc\ndef\n"));
        reader.FeedEof();
        var result = Text(await pending.WaitAsync(ReadTimeout, Ct));
        Assert.StartsWith("abc", result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsyncEnumerator_WhileReadPends_ThrowsInvalidOperation()
    {
        var reader = new StreamReader();
        var pending = reader.ReadExactlyAsync(2, Ct);
        await using var lines = reader.GetAsyncEnumerator(Ct);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await lines.MoveNextAsync());
        Assert.Contains("ReadLineAsync", error.Message, StringComparison.Ordinal);
        reader.FeedData(Ascii("ok"));
        Assert.Equal("ok", Text(await Within(pending)));
    }

    [Fact]
    public async Task ReadLineAsync_AfterFailedRead_CanReadAgain()
    {
        var reader = Fed("toolong\nok\n", limit: 3);
        await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync(Ct));
        Assert.Equal("ok\n", Text(await reader.ReadLineAsync(Ct)));
    }

    [Fact]
    public async Task FeedData_FromAnotherThreadWhileReading_DeliversEveryByteInOrder()
    {
        var reader = new StreamReader(limit: 64);
        var expected = new byte[200_000];
        new Random(11).NextBytes(expected);
        var feeder = OnOtherThread(() =>
        {
            var random = new Random(12);
            for (var at = 0; at < expected.Length;)
            {
                var size = Math.Min(random.Next(1, 3000), expected.Length - at);
                reader.FeedData(expected.AsSpan(at, size));
                at += size;
            }

            reader.FeedEof();
        });

        var received = new List<byte>();
        var buffer = new byte[777];
        var random = new Random(13);
        while (true)
        {
            // Alternate read kinds so every path meets bytes arriving concurrently.
            switch (random.Next(3))
            {
                case 0:
                    var count = await reader.ReadAsync(buffer, Ct);
                    if (count == 0)
                    {
                        await feeder;
                        Assert.True(expected.AsSpan().SequenceEqual(received.ToArray()), "The bytes read differ from the bytes fed.");
                        return;
                    }

                    received.AddRange(buffer[..count]);
                    break;
                case 1:
                    try
                    {
                        received.AddRange(await reader.ReadExactlyAsync(random.Next(1, 500), Ct));
                    }
                    catch (IncompleteReadException e)
                    {
                        received.AddRange(e.Partial);
                    }

                    break;
                default:
                    received.AddRange(await reader.ReadAsync(random.Next(1, 300), Ct));
                    break;
            }
        }
    }

    private static string MethodName(string kind) => kind[..kind.IndexOf("Async", StringComparison.Ordinal)] + "Async";
}
