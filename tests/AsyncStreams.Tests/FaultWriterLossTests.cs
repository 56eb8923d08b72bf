namespace AsyncStreams.Tests;

/// <summary>What a writer reports once its connection is lost with bytes still queued.</summary>
[Collection(ReliabilityDefinition.Name)]
public class FaultWriterLossTests
{
    [Fact]
    public async Task Abort_WhileDrainWaits_DrainThrowsAndWriteBufferSizeIsAlreadyZero()
    {
        using var cts = Soak.Bound(20);
        var guard = await LeakGuard.StartAsync();
        using (var listener = ConnectionTestKit.Listen())
        {
            var (_, writer, peer) = await ConnectionTestKit.ConnectAsync(listener, null, cts.Token);
            using (peer)
            {
                // The peer never reads: the queue grows beyond the high-water mark and the drain waits.
                var chunk = new byte[64 * 1024];
                for (var i = 0; i < 128; i++)
                {
                    writer.Write(chunk);
                }

                var drain = writer.DrainAsync(cts.Token);
                Assert.False(drain.IsCompleted);
                var observed = ObserveAsync(drain.AsTask(), writer);

                writer.Abort();

                // The drain's continuation runs on another thread while the abort goes on; it must already see an
                // empty queue, as asyncio's abort clears the buffer before anything else can run.
                var (error, queued) = await observed.WaitAsync(cts.Token);
                Assert.IsType<IOException>(error);
                Assert.Equal(0, queued);
                Assert.Equal(0, writer.WriteBufferSize);
                await writer.WaitClosedAsync().WaitAsync(cts.Token);
            }
        }

        await guard.AssertCleanAsync();
    }

    private static async Task<(Exception? Error, long Queued)> ObserveAsync(Task drain, StreamWriter writer)
    {
        try
        {
            await drain;
            return (null, writer.WriteBufferSize);
        }
        catch (Exception ex)
        {
            return (ex, writer.WriteBufferSize);
        }
    }
}
