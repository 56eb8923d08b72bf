using System.Net.Sockets;
using System.Text;
using AsyncStreams.Internal;

namespace AsyncStreams.Tests;

/// <summary>
/// Answers to pipelined requests: on the event loop, writes made by the reader's code while the reader still holds
/// unread requests leave together when that code waits again, and the held bytes behave as queued bytes for drains
/// and closes. Send calls are counted through the bytes_sent counter, which records one measurement per send.
/// </summary>
public class WriterPipelinedAnswersTests
{
    private const string BytesSent = "asyncstreams.bytes_sent";

    [Fact]
    public async Task Write_AnswersToPipelinedLines_LeaveInFarFewerSendsThanLines()
    {
        Assert.SkipUnless(EventLoop.IsEnabled, "Writes are held only on the event loop (Linux).");
        using var cts = ServerTestKit.Timeout();
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(factory);
        var served = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await StartLineServerAsync(Echo, new StreamServerOptions { MeterFactory = factory }, cts.Token, served);
        await using var guard = ServerTestKit.Guard(server);
        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);

        int exchanges = await ReachTheLoopAsync(client, cts.Token);

        const int Lines = 200;
        var burst = new StringBuilder();
        for (var i = 0; i < Lines; i++)
        {
            burst.Append(i.ToString("D30", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        await ServerTestKit.SendAsync(client, burst.ToString(), cts.Token);
        byte[] echoed = await ServerTestKit.ReceiveExactlyAsync(client, burst.Length, cts.Token);

        Assert.Equal(burst.ToString(), Encoding.ASCII.GetString(echoed));

        // A send is counted just after it returns; once the callback has ended every count is in.
        client.Shutdown(SocketShutdown.Send);
        await served.Task.WaitAsync(cts.Token);
        var sends = metrics.Of(BytesSent);
        Assert.Equal((5 * exchanges) + burst.Length, (int)sends.Sum(m => m.Value));

        // One send per "ready"; one receive takes the whole 6 KB burst and one send answers it (a few, should the
        // kernel split the burst), where one send per line would make 200.
        Assert.InRange(sends.Count - exchanges, 1, 10);
    }

    [Fact]
    public async Task Close_AfterHeldAnswers_SendsThemBeforeTheEnd()
    {
        Assert.SkipUnless(EventLoop.IsEnabled, "Writes are held only on the event loop (Linux).");
        using var cts = ServerTestKit.Timeout();
        var server = await StartLineServerAsync(
            (line, writer) =>
            {
                bool quit = line.AsSpan().SequenceEqual("QUIT\n"u8);
                writer.Write(quit ? "bye\n"u8 : line);
                return !quit;
            },
            null, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);

        await ReachTheLoopAsync(client, cts.Token);
        await ServerTestKit.SendAsync(client, "a\nb\nQUIT\nnever answered\n", cts.Token);

        Assert.Equal("a\nb\nbye\n", Encoding.ASCII.GetString(await ServerTestKit.ReceiveToEndAsync(client, cts.Token)));
    }

    [Fact]
    public async Task DrainAsync_HeldAnswersPastTheHighWaterMark_CompletesAndEverythingArrivesInOrder()
    {
        // Each 2-byte request gets a 20 KiB answer: held answers cross the 32 KiB mark within one receive's requests,
        // so the drain must find them already on their way instead of waiting for the end of the processing.
        Assert.SkipUnless(EventLoop.IsEnabled, "Writes are held only on the event loop (Linux).");
        using var cts = ServerTestKit.Timeout();
        const int Requests = 64;
        const int AnswerSize = 20 * 1024;
        var server = await StartLineServerAsync(
            (line, writer) =>
            {
                writer.Write(Enumerable.Repeat(line[0], AnswerSize).ToArray());
                return true;
            },
            new StreamServerOptions { WriteHighWaterMark = 32 * 1024, WriteLowWaterMark = 8 * 1024 }, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);

        await ReachTheLoopAsync(client, cts.Token);
        var requests = new StringBuilder();
        for (var i = 0; i < Requests; i++)
        {
            requests.Append((char)('A' + (i % 26))).Append('\n');
        }

        await ServerTestKit.SendAsync(client, requests.ToString(), cts.Token);
        client.Shutdown(SocketShutdown.Send);
        byte[] answers = await ServerTestKit.ReceiveToEndAsync(client, cts.Token);

        Assert.Equal(Requests * AnswerSize, answers.Length);
        for (var i = 0; i < Requests; i++)
        {
            var expected = (byte)('A' + (i % 26));
            Assert.True(answers.AsSpan(i * AnswerSize, AnswerSize).IndexOfAnyExcept(expected) < 0, $"answer {i} is not all '{(char)expected}'");
        }
    }

    [Fact]
    public async Task Write_FromAnotherThreadWhileAnswersAreHeld_KeepsTheOrderOfWrites()
    {
        // A write from another thread while answers are held queues behind them; both leave when the reader's code
        // waits again, in the order they were written.
        Assert.SkipUnless(EventLoop.IsEnabled, "Writes are held only on the event loop (Linux).");
        using var cts = ServerTestKit.Timeout();
        var server = await StartLineServerAsync(
            (line, writer) =>
            {
                writer.Write(line);
                if (line.AsSpan().SequenceEqual("x\n"u8))
                {
                    // Joined at once, so the write happens while this code still holds the loop's thread.
                    var other = new Thread(() => writer.Write("from another thread\n"u8));
                    other.Start();
                    other.Join();
                }

                return true;
            },
            null, cts.Token);
        await using var guard = ServerTestKit.Guard(server);
        using var client = await ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cts.Token);

        await ReachTheLoopAsync(client, cts.Token);
        await ServerTestKit.SendAsync(client, "w\nx\ny\n", cts.Token);
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal("w\nx\nfrom another thread\ny\n", Encoding.ASCII.GetString(await ServerTestKit.ReceiveToEndAsync(client, cts.Token)));
    }

    private static bool Echo(byte[] line, StreamWriter writer)
    {
        writer.Write(line);
        return true;
    }

    // A line server: answers "ready" with where it ran (see ReachTheLoopAsync) and every other line with answer,
    // draining after each, until EOF or until answer returns false; then closes and waits for the close.
    private static Task<StreamServer> StartLineServerAsync(
        Func<byte[], StreamWriter, bool> answer, StreamServerOptions? options, CancellationToken cancellationToken,
        TaskCompletionSource? served = null) =>
        StreamServer.StartAsync(
            async (reader, writer) =>
            {
                while (await reader.ReadLineAsync() is { Length: > 0 } line)
                {
                    if (line.AsSpan().SequenceEqual("ready\n"u8))
                    {
                        writer.Write(WhereAmI());
                    }
                    else if (!answer(line, writer))
                    {
                        break;
                    }

                    await writer.DrainAsync();
                }

                writer.Close();
                await writer.WaitClosedAsync();
                served?.TrySetResult();
            },
            "127.0.0.1", 0, options, cancellationToken);

    // Only code the loop runs has its writes held. The callback's first read may be served on the thread that started
    // it; once a read has been answered from the loop's thread, the callback's next read waits there, and the next
    // data reaches it through the loop. The server answers "ready" with where it ran.
    private static async Task<int> ReachTheLoopAsync(Socket client, CancellationToken cancellationToken)
    {
        var exchanges = 0;
        string where;
        do
        {
            await ServerTestKit.SendAsync(client, "ready\n", cancellationToken);
            where = Encoding.ASCII.GetString(await ServerTestKit.ReceiveExactlyAsync(client, 5, cancellationToken));
            exchanges++;
        }
        while (where != "loop\n" && exchanges < 20);

        Assert.Equal("loop\n", where);
        return exchanges;
    }

    private static byte[] WhereAmI() =>
        Thread.CurrentThread.Name?.StartsWith("AsyncStreams event loop", StringComparison.Ordinal) == true ? "loop\n"u8.ToArray() : "pool\n"u8.ToArray();
}
