using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

// A cancelled read consumes nothing: the next read sees every byte, whatever the read kind and however far the
// cancelled read had got.
public class StreamReaderCancellationTests : BoundedReaderTest
{
    // Read kinds that wait although bytes are buffered (for a separator, n bytes, or the end of the stream).
    public static TheoryData<string> WaitingReadKinds =>
        [.. ReadKind.All.Where(kind => kind is not (ReadKind.Read or ReadKind.ReadMemory))];

    public static TheoryData<string> ReadKinds => [.. ReadKind.All];

    [Theory]
    [MemberData(nameof(WaitingReadKinds))]
    public async Task ReadKind_CancelledWhileWaitingWithPartialData_LosesNoByte(string kind)
    {
        var reader = new StreamReader();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = ReadKind.RunAsync(kind, reader, 100, cts.Token);

        // Each feed wakes the read, which finds too little (no separator, under 100 bytes, no EOF) and waits again.
        reader.FeedData(Ascii("ab"));
        reader.FeedData(Ascii("c\r"));
        reader.FeedData(Ascii("de"));
        Assert.False(pending.IsCompleted);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(ReadTimeout, Ct));

        reader.FeedData(Ascii("f\nrest"));
        Assert.Equal("abc\rdef\nrest", await RemainingAsync(reader));
    }

    [Theory]
    [MemberData(nameof(WaitingReadKinds))]
    public async Task ReadKind_CancelledThenReadWithoutNewData_ReturnsExaminedBytesAtOnce(string kind)
    {
        var reader = new StreamReader();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = ReadKind.RunAsync(kind, reader, 100, cts.Token);
        reader.FeedData(Ascii("abc\rde"));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(ReadTimeout, Ct));

        // No byte arrives after the cancellation: the bytes the cancelled read examined are still served.
        var next = reader.ReadExactlyAsync(6, Ct);
        Assert.True(next.IsCompletedSuccessfully);
        Assert.Equal("abc\rde", Text(await next));
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task ReadKind_CancelledWhileWaitingForFirstByte_LosesNoByte(string kind)
    {
        var reader = new StreamReader();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = ReadKind.RunAsync(kind, reader, 8, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(ReadTimeout, Ct));

        var retried = ReadKind.RunAsync(kind, reader, 8, Ct);
        reader.FeedData(Ascii("lineone\nline two\n"));
        if (kind == ReadKind.ReadToEnd)
        {
            reader.FeedEof();
        }

        var expected = kind == ReadKind.ReadToEnd ? "lineone\nline two\n" : "lineone\n";
        Assert.Equal(expected, Text(await retried.WaitAsync(ReadTimeout, Ct)));
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task ReadKind_AlreadyCancelledTokenWithDataBuffered_ThrowsAndConsumesNothing(string kind)
    {
        var reader = Fed("line1\nline2\n");
        reader.FeedEof();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadKind.RunAsync(kind, reader, 4, cts.Token));
        Assert.Equal("line1\nline2\n", Text(await reader.ReadAsync(-1, Ct)));
    }

    [Fact]
    public async Task ReadLineAsync_CancelledWhileLongLineArrives_KeepsTheWholeLine()
    {
        var reader = new StreamReader();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = reader.ReadLineAsync(cts.Token);
        var line = new string('z', 10_000);
        for (var i = 0; i < line.Length; i += 100)
        {
            reader.FeedData(Ascii(line.Substring(i, 100)));
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(pending));
        reader.FeedData(Ascii("\n"));
        Assert.Equal(line + "\n", Text(await reader.ReadLineAsync(Ct)));
    }

    [Fact]
    public async Task ReadExactlyAsync_CancelledFromAnotherThread_LosesNoByte()
    {
        var reader = new StreamReader();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = reader.ReadExactlyAsync(10, cts.Token);
        reader.FeedData(Ascii("12345"));
        var canceller = OnOtherThread(cts.Cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(pending));
        await canceller;
        reader.FeedData(Ascii("67890"));
        Assert.Equal("1234567890", Text(await reader.ReadExactlyAsync(10, Ct)));
    }
}
