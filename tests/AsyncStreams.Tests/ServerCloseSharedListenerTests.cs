using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AsyncStreams.Tests;

/// <summary>
/// <see cref="StreamServer.Close"/> stops listening at once even while another descriptor refers to the listening
/// socket, as a child process that another thread is starting holds a copy of every descriptor until it calls exec.
/// </summary>
public class ServerCloseSharedListenerTests
{
    [Fact]
    public async Task Close_ListenerDescriptorDuplicated_NewConnectionsRefusedAtOnce()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Only Linux documents that shutting a listening socket down stops it.");
        using var cts = ServerTestKit.Timeout();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var endPoint = (IPEndPoint)socket.LocalEndPoint!;
        var server = await StreamServer.StartAsync(ServerTestKit.EchoLinesAsync, socket, cancellationToken: cts.Token);
        await using var guard = ServerTestKit.Guard(server);

        // The copy a child process holds between fork and exec.
        var copy = NativeMethods.dup((int)socket.Handle);
        Assert.True(copy >= 0, $"dup failed with errno {Marshal.GetLastPInvokeError()}.");
        try
        {
            server.Close();

            var refused = await Assert.ThrowsAsync<SocketException>(() => ServerTestKit.ConnectAsync(endPoint, cts.Token));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        finally
        {
            Assert.Equal(0, NativeMethods.close(copy));
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int dup(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
