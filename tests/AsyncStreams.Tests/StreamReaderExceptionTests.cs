using static AsyncStreams.Tests.ReaderTestKit;

namespace AsyncStreams.Tests;

public class StreamReaderExceptionTests : BoundedReaderTest
{
    public static TheoryData<string> ReadKinds => [.. ReadKind.All];

    [Fact]
    public void Exception_AfterSetException_IsSameInstance()
    {
        // ports test_exception
        var reader = new StreamReader();
        Assert.Null(reader.Exception);
        var error = new InvalidDataException();
        reader.SetException(error);
        Assert.Same(error, reader.Exception);
    }

    [Fact]
    public void SetException_Null_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => new StreamReader().SetException(null!));
    }

    [Fact]
    public async Task SetException_ReadPending_WakesReadWithException()
    {
        // ports test_exception_waiter
        var reader = new StreamReader();
        var pending = reader.ReadLineAsync(Ct);
        Assert.False(pending.IsCompleted);
        var error = new InvalidDataException();
        reader.SetException(error);
        Assert.Same(error, await Assert.ThrowsAsync<InvalidDataException>(async () => await Within(pending)));
    }

    [Fact]
    public async Task SetException_AfterCancelledRead_LeavesNoWaiterBehind()
    {
        // ports test_exception_cancel
        var reader = new StreamReader();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var pending = reader.ReadLineAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Within(pending));
        var error = new InvalidOperationException("message");
        reader.SetException(error);
        Assert.Equal("<StreamReader exception=InvalidOperationException>", reader.ToString());
        Assert.Same(error, await Assert.ThrowsAsync<InvalidOperationException>(async () => await reader.ReadLineAsync(Ct)));
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task SetException_EveryReadKind_RethrowsSameInstanceEachTime(string kind)
    {
        var reader = Fed(Data);
        var error = new IOException("connection reset");
        reader.SetException(error);
        for (var i = 0; i < 2; i++)
        {
            var thrown = await Assert.ThrowsAsync<IOException>(async () => await ReadKind.RunAsync(kind, reader, 4, Ct));
            Assert.Same(error, thrown);
        }
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public async Task SetException_EveryReadKindPending_WakesItWithException(string kind)
    {
        var reader = new StreamReader();
        var pending = ReadKind.RunAsync(kind, reader, 4, Ct);
        Assert.False(pending.IsCompleted);
        var error = new IOException("connection reset");
        var feeder = OnOtherThread(() => reader.SetException(error));
        Assert.Same(error, await Assert.ThrowsAsync<IOException>(async () => await pending.WaitAsync(ReadTimeout, Ct)));
        await feeder;
    }

    [Fact]
    public async Task SetException_ThrownException_KeepsOriginalStackTrace()
    {
        var reader = new StreamReader();
        Exception error;
        try
        {
            throw new IOException("receive failed");
        }
        catch (IOException caught)
        {
            error = caught;
        }

        var originalTrace = error.StackTrace!;
        reader.SetException(error);
        var thrown = await Assert.ThrowsAsync<IOException>(async () => await reader.ReadAsync(1, Ct));
        Assert.Same(error, thrown);
        Assert.StartsWith(originalTrace, thrown.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetException_ReceivePaused_ResumesReceiveLoop()
    {
        var reader = new StreamReader(limit: 2);
        reader.FeedData(Ascii("12345"));
        var paused = reader.WaitForRoomAsync(Ct);
        Assert.False(paused.IsCompleted);
        reader.SetException(new IOException());
        await Within(paused);
    }
}
