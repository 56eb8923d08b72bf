using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

// The same bytes, delivered in different chunks while reads are pending, give the same results for every read
// kind. Expected results come from a plain model of each read over the whole input, not from the reader.
public class StreamReaderChunkingTests : BoundedReaderTest
{
    // The n of ReadAsync(n) and ReadExactlyAsync(n): small for the small inputs, and for the large ones a size
    // that makes the exact reads cross pipe segments.
    private const int SmallN = 3;
    private const int LargeN = 1000;

    public static TheoryData<string> ReadKinds => [.. ReadKind.All];

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task ReadKind_EverySplitIntoThreeChunks_GivesModelResults(string kind)
    {
        var data = Ascii("line1\nli<|>ne2\r\nab\n\n<|\r\n<|>last\r<|");
        var expected = Model(kind, data, SmallN);
        for (var i = 0; i <= data.Length; i++)
        {
            for (var j = i; j <= data.Length; j++)
            {
                byte[][] chunks = [data[..i], data[i..j], data[j..]];
                Assert.Equal(expected, await RunAsync(kind, chunks, SmallN, limit: Streams.DefaultLimit, ownSegments: false));
                Assert.Equal(expected, await RunAsync(kind, chunks, SmallN, limit: Streams.DefaultLimit, ownSegments: true));
            }
        }
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task ReadKind_OneByteAtATime_GivesModelResults(string kind)
    {
        var data = Ascii("line1\nli<|>ne2\r\nab\n\n<|\r\n<|>last\r<|");
        var chunks = data.Select(b => new[] { b }).ToArray();
        Assert.Equal(Model(kind, data, SmallN), await RunAsync(kind, chunks, SmallN, limit: Streams.DefaultLimit, ownSegments: false));
        Assert.Equal(Model(kind, data, SmallN), await RunAsync(kind, chunks, SmallN, limit: Streams.DefaultLimit, ownSegments: true));
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task ReadKind_LargeInputRandomSplits_GivesModelResults(string kind)
    {
        for (var seed = 1; seed <= 3; seed++)
        {
            var random = new Random(seed);
            var data = LargeInput(random);
            var expected = Model(kind, data, LargeN);
            var chunks = new List<byte[]>();
            for (var at = 0; at < data.Length;)
            {
                // Mostly small chunks, sometimes large ones, so lines and separators cross pipe segments.
                var size = random.Next(4) == 0 ? random.Next(1, 20_000) : random.Next(1, 64);
                size = Math.Min(size, data.Length - at);
                chunks.Add(data[at..(at + size)]);
                at += size;
            }

            Assert.Equal(expected, await RunAsync(kind, [.. chunks], LargeN, limit: 1 << 20, ownSegments: seed == 2));
        }
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task ReadKind_LargeInputFedBeforeReading_GivesModelResults(string kind)
    {
        var data = LargeInput(new Random(7));
        var reader = new StreamReader(1 << 20);
        for (var at = 0; at < data.Length; at += 5000)
        {
            reader.FeedData(data.AsSpan(at, Math.Min(5000, data.Length - at)));
        }

        reader.FeedEof();
        Assert.Equal(Model(kind, data, LargeN), await ReadAllAsync(kind, reader, LargeN));
    }

    [Fact]
    public async Task MixedReadKinds_OverManySmallSegments_EachReadGivesTheModelResult()
    {
        // Reads of different kinds in turn over one buffer: a line served from the first segment, then an exact
        // read that crosses segments, a read into memory, and so on, so every read starts where the last left off
        // however that one consumed.
        string[] kinds = [.. ReadKind.All.Where(k => k != ReadKind.ReadToEnd)];
        for (var seed = 1; seed <= 4; seed++)
        {
            var random = new Random(seed);
            var data = LargeInput(random);
            var reader = new StreamReader(1 << 20);
            for (var at = 0; at < data.Length;)
            {
                var size = Math.Min(random.Next(3) == 0 ? random.Next(1, 6_000) : random.Next(1, 300), data.Length - at);
                data.AsSpan(at, size).CopyTo(reader.Input.GetMemory(Math.Max(size, 4096)).Span);
                reader.Input.Advance(size);
                await reader.Input.FlushAsync(Ct);
                at += size;
            }

            reader.FeedEof();
            var rest = Text(data);
            var reads = 0;
            while (rest.Length > 0)
            {
                var kind = kinds[random.Next(kinds.Length)];
                var n = random.Next(1, 3_000);
                var (expected, ends) = ModelOne(kind, rest, n);
                string actual;
                try
                {
                    actual = Text(await ReadKind.RunAsync(kind, reader, n, Ct));
                }
                catch (IncompleteReadException e)
                {
                    actual = "incomplete:" + Text(e.Partial);
                }

                Assert.True(expected == actual, $"seed {seed}, read {reads} ({kind}, n = {n}): expected {expected.Length} chars, got {actual.Length}");
                rest = ends ? string.Empty : rest[expected.Length..];
                reads++;
            }

            Assert.Empty(await reader.ReadAsync(-1, Ct));
        }
    }

    // One read of the given kind over the rest of a stream that has ended: its result, and whether it empties the
    // buffer by failing (an incomplete read hands over every remaining byte).
    private static (string Result, bool Ends) ModelOne(string kind, string rest, int n)
    {
        switch (kind)
        {
            case ReadKind.Read or ReadKind.ReadMemory:
                return (rest[..Math.Min(n, rest.Length)], false);
            case ReadKind.ReadExactly or ReadKind.ReadExactlyMemory:
                return rest.Length >= n ? (rest[..n], false) : ("incomplete:" + rest, true);
            case ReadKind.ReadLine:
            {
                var index = rest.IndexOf('\n', StringComparison.Ordinal);
                return (index >= 0 ? rest[..(index + 1)] : rest, false);
            }

            case ReadKind.ReadUntil:
            {
                var index = rest.IndexOf('\n', StringComparison.Ordinal);
                return index >= 0 ? (rest[..(index + 1)], false) : ("incomplete:" + rest, true);
            }

            case ReadKind.ReadUntilAny:
            {
                var chunks = SplitAfterEarliest(rest, ["\r\n", "<|>", "\n"], out _);
                return chunks.Count > 0 ? (chunks[0], false) : ("incomplete:" + rest, true);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    // Lines of up to 200 bytes, and one in five of 4,000 to 12,000 (longer than a pipe segment), from an alphabet
    // holding the separators' bytes, ended by "\n", "\r\n" or "<|>", and a last line without an end.
    private static byte[] LargeInput(Random random)
    {
        var output = new List<byte>();
        while (output.Count < 60_000)
        {
            var length = random.Next(5) == 0 ? random.Next(4_000, 12_000) : random.Next(0, 200);
            for (var i = 0; i < length; i++)
            {
                output.Add((byte)"abcxyz\r<|>"[random.Next(10)]);
            }

            output.AddRange(random.Next(3) switch { 0 => "\n"u8.ToArray(), 1 => "\r\n"u8.ToArray(), _ => "<|>"u8.ToArray() });
        }

        output.AddRange("unterminated"u8.ToArray());
        return [.. output];
    }

    // Starts the reads before any byte arrives, then feeds the chunks; each feed runs the pending read. With
    // ownSegments every chunk goes into a pipe segment of its own (asking Input for a whole segment), so that
    // separators and lines cross segment boundaries at every split point; otherwise FeedData packs chunks into
    // segments as a receive loop does.
    private async Task<List<string>> RunAsync(string kind, byte[][] chunks, int n, int limit, bool ownSegments)
    {
        var reader = new StreamReader(limit);
        var reads = ReadAllAsync(kind, reader, n);
        foreach (var chunk in chunks)
        {
            if (!ownSegments)
            {
                reader.FeedData(chunk);
            }
            else if (chunk.Length > 0)
            {
                chunk.CopyTo(reader.Input.GetMemory(Math.Max(chunk.Length, 4096)));
                reader.Input.Advance(chunk.Length);
                await reader.Input.FlushAsync(Ct);
            }
        }

        reader.FeedEof();
        return await reads.WaitAsync(ReadTimeout, Ct);
    }

    // Reads with one read kind until the end of the stream, recording each result. ReadAsync(n) may return
    // any 1..n bytes, so its record is the bytes read, checked piece by piece for size.
    private async Task<List<string>> ReadAllAsync(string kind, StreamReader reader, int n)
    {
        var results = new List<string>();
        var concatenated = new List<byte>();
        while (true)
        {
            byte[] result;
            try
            {
                result = await ReadKind.RunAsync(kind, reader, n, Ct).ConfigureAwait(false);
            }
            catch (IncompleteReadException e)
            {
                results.Add("incomplete:" + Text(e.Partial));
                return results;
            }

            switch (kind)
            {
                case ReadKind.Read or ReadKind.ReadMemory:
                    if (result.Length == 0)
                    {
                        results.Add(Text([.. concatenated]));
                        return results;
                    }

                    Assert.InRange(result.Length, 1, n);
                    concatenated.AddRange(result);
                    break;
                case ReadKind.ReadToEnd:
                    results.Add(Text(result));
                    return results;
                case ReadKind.ReadLine when result.Length == 0:
                    return results;
                default:
                    results.Add(Text(result));
                    break;
            }
        }
    }

    private static List<string> Model(string kind, byte[] data, int n)
    {
        var text = Text(data);
        var results = new List<string>();
        switch (kind)
        {
            case ReadKind.Read or ReadKind.ReadMemory or ReadKind.ReadToEnd:
                results.Add(text);
                break;
            case ReadKind.ReadExactly or ReadKind.ReadExactlyMemory:
                var at = 0;
                for (; at + n <= text.Length; at += n)
                {
                    results.Add(text.Substring(at, n));
                }

                results.Add("incomplete:" + text[at..]);
                break;
            case ReadKind.ReadLine or ReadKind.ReadUntil:
                var lines = SplitAfterEarliest(text, ["\n"], out var rest);
                results.AddRange(lines);
                if (kind == ReadKind.ReadUntil)
                {
                    results.Add("incomplete:" + rest);
                }
                else if (rest.Length > 0)
                {
                    results.Add(rest);
                }

                break;
            case ReadKind.ReadUntilAny:
                results.AddRange(SplitAfterEarliest(text, ["\r\n", "<|>", "\n"], out var remainder));
                results.Add("incomplete:" + remainder);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }

        return results;
    }

    // Cuts the text after the match of any separator that ends first, again and again.
    private static List<string> SplitAfterEarliest(string text, string[] separators, out string rest)
    {
        var chunks = new List<string>();
        var start = 0;
        while (true)
        {
            var bestEnd = -1;
            foreach (var separator in separators)
            {
                var index = text.IndexOf(separator, start, StringComparison.Ordinal);
                if (index >= 0 && (bestEnd < 0 || index + separator.Length < bestEnd))
                {
                    bestEnd = index + separator.Length;
                }
            }

            if (bestEnd < 0)
            {
                rest = text[start..];
                return chunks;
            }

            chunks.Add(text[start..bestEnd]);
            start = bestEnd;
        }
    }
}
