using System.Net.Security;
using System.Net.Sockets;
using AsyncStreams.Internal;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

/// <summary>
/// A client that starts its handshake right after STARTTLS, without waiting for the reply: its ClientHello
/// reaches the server's reader before the server upgrades, which is what happens on a busy machine when the
/// server's upgrade is a little late.
/// </summary>
public class TlsStartTlsRaceTests
{
    private static TlsTestCertificates Certs => TlsTestCertificates.Shared;

    [Fact]
    public async Task StartTlsAsync_Server_ClientHelloAlreadyInReader_HandshakeSucceeds()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task connect = client.ConnectAsync(listener.LocalEndPoint!, cts.Token).AsTask();
        Socket accepted = await listener.AcceptAsync(cts.Token);
        await connect;
        var (reader, writer) = Connection.Start(accepted, null, TransportSettings.From(new StreamServerOptions()));

        await client.SendAsync(Ascii("STARTTLS\n"), SocketFlags.None, cts.Token);
        using var ssl = new SslStream(new SkipReplyStream(new NetworkStream(client, ownsSocket: false), "OK\n"));
        Task clientHandshake = ssl.AuthenticateAsClientAsync(Certs.TrustingClientOptions("localhost"), cts.Token);

        Assert.Equal(Ascii("STARTTLS\n"), await reader.ReadLineAsync(cts.Token));
        for (int i = 0; i < 2000 && reader.BufferedBytes == 0; i++)
        {
            await Task.Delay(1, cts.Token);
        }

        Assert.True(reader.BufferedBytes > 0, "The ClientHello should be in the reader before the upgrade.");
        writer.Write(Ascii("OK\n"));
        await writer.StartTlsAsync(Certs.ServerOptions(), cts.Token);
        await clientHandshake;

        Assert.Equal(0, reader.BufferedBytes);
        await ssl.WriteAsync(Ascii("secret\n"), cts.Token);
        Assert.Equal(Ascii("secret\n"), await reader.ReadLineAsync(cts.Token));
        writer.Abort();
        await writer.WaitClosedAsync().WaitAsync(cts.Token);
    }

    /// <summary>Reads and checks the server's plain reply before the TLS bytes that follow it.</summary>
    private sealed class SkipReplyStream(Stream inner, string reply) : Stream
    {
        private bool _skipped;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_skipped)
            {
                byte[] expected = Ascii(reply);
                var got = new byte[expected.Length];
                await inner.ReadExactlyAsync(got, cancellationToken);
                Assert.Equal(expected, got);
                _skipped = true;
            }

            return await inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
