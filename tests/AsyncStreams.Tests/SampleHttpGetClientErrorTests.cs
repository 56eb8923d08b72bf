using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AsyncStreams.Tests;

/// <summary>HttpGetClient's failures: one clear line on standard error and exit code 1.</summary>
public class SampleHttpGetClientErrorTests
{
    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/file")]
    [InlineData("http://user:secret@127.0.0.1/")]
    [InlineData("http://127.0.0.1:99999/")]
    public async Task HttpGetClient_BadUrl_PrintsOneErrorLineExitsOne(string url)
    {
        using var timeout = SamplePeers.Timeout();
        await using var client = SampleProcess.StartSample("HttpGetClient", url);

        SamplePeers.AssertOneErrorLine(client, await client.WaitForExitAsync(timeout.Token), "error: invalid URL ");
    }

    [Fact]
    public async Task HttpGetClient_RefusedPort_PrintsOneErrorLineExitsOne()
    {
        using var timeout = SamplePeers.Timeout();
        using var reserved = SamplePeers.ReserveRefusingPort(out var port);
        await using var client = SampleProcess.StartSample("HttpGetClient", $"http://127.0.0.1:{port}/");

        SamplePeers.AssertOneErrorLine(client, await client.WaitForExitAsync(timeout.Token), $"error: connection to 127.0.0.1 port {port} refused");
    }

    [Theory]
    [InlineData("", "the server closed the connection without answering")]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1.x status line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n", "the connection closed in the middle of the response headers")]
    [InlineData("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "the connection closed before the end of the body (Content-Length 100)")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size line")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", "a chunk is not followed by CRLF")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "the connection closed in the middle of the chunked body")]
    public async Task HttpGetClient_MalformedResponse_PrintsOneErrorLineExitsOne(string response, string expected)
    {
        using var timeout = SamplePeers.Timeout();
        var ct = timeout.Token;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var serving = AnswerOnceAsync(listener, Encoding.ASCII.GetBytes(response), ct);

        await using var client = SampleProcess.StartSample("HttpGetClient", $"http://127.0.0.1:{port}/");

        SamplePeers.AssertOneErrorLine(client, await client.WaitForExitAsync(ct), $"error: malformed response from 127.0.0.1 port {port}: {expected}");
        await serving;
    }

    // Reads the request head, sends the canned answer and closes: a server that gets HTTP wrong on purpose.
    private static async Task AnswerOnceAsync(Socket listener, byte[] answer, CancellationToken cancellationToken)
    {
        using var connection = await listener.AcceptAsync(cancellationToken);
        var request = new List<byte>();
        var buffer = new byte[4096];
        while (!Encoding.ASCII.GetString([.. request]).Contains("\r\n\r\n", StringComparison.Ordinal) && request.Count < 65536)
        {
            var n = await connection.ReceiveAsync(buffer, cancellationToken);
            if (n == 0)
                break;
            request.AddRange(buffer.AsSpan(0, n));
        }

        Assert.StartsWith("GET / HTTP/1.1\r\nHost: 127.0.0.1:", Encoding.ASCII.GetString([.. request]), StringComparison.Ordinal);
        await connection.SendAsync(answer, cancellationToken);
        connection.Shutdown(SocketShutdown.Send);
        while (await connection.ReceiveAsync(buffer, cancellationToken) > 0)
        {
            // Wait for the client to close first, so the answer is never cut short by a reset.
        }
    }
}
