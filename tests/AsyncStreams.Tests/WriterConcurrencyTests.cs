using System.Buffers.Binary;
using System.Net.Sockets;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class WriterConcurrencyTests
{
    [Fact]
    public async Task Write_ConcurrentWriters_RecordsNeverInterleave()
    {
        const int Writers = 8;
        const int RecordsPerWriter = 200;
        const int RecordSize = 1000;
        using var cts = Bounded();
        using Socket listener = Listen();
        var options = new ConnectionOptions { WriteHighWaterMark = 32 * 1024, WriteLowWaterMark = 8 * 1024 };
        var (_, writer, peer) = await ConnectAsync(listener, options, cts.Token);
        using (peer)
        {
            Task<byte[]> read = ReceiveToEndAsync(peer, cts.Token);
            Task[] writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
            {
                var record = new byte[RecordSize];
                for (int r = 0; r < RecordsPerWriter; r++)
                {
                    // Every byte of a record carries its writer and sequence number, so interleaving shows.
                    for (int i = 0; i < RecordSize; i += 4)
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(i), (w << 16) | r);
                    }

                    writer.Write(record);
                    if (r % 7 == 0)
                    {
                        await writer.DrainAsync(cts.Token);
                    }
                }
            }, cts.Token)).ToArray();

            await Task.WhenAll(writers);
            writer.Close();
            byte[] received = await read;
            Assert.Equal(Writers * RecordsPerWriter * RecordSize, received.Length);

            var nextSequence = new int[Writers];
            for (int offset = 0; offset < received.Length; offset += RecordSize)
            {
                int tag = BinaryPrimitives.ReadInt32LittleEndian(received.AsSpan(offset));
                for (int i = 0; i < RecordSize; i += 4)
                {
                    Assert.Equal(tag, BinaryPrimitives.ReadInt32LittleEndian(received.AsSpan(offset + i)));
                }

                int w = tag >> 16;
                Assert.Equal(nextSequence[w]++, tag & 0xFFFF);
            }

            Assert.All(nextSequence, n => Assert.Equal(RecordsPerWriter, n));
            await writer.WaitClosedAsync().WaitAsync(cts.Token);
        }
    }
}
