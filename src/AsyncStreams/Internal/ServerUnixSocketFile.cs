using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Internal;

/// <summary>
/// Prepares the file-system path of a Unix domain socket server, as asyncio's <c>create_unix_server</c> does:
/// a socket file left at the path (by a server that did not clean up) is removed before binding, while any
/// other kind of file is left alone, so that the bind fails with "address in use" instead of deleting user data.
/// </summary>
internal static class ServerUnixSocketFile
{
    // ENXIO has the same value on Linux, macOS and the BSDs.
    private const int Enxio = 6;

    /// <summary>Removes a socket file at <paramref name="path"/>, if there is one.</summary>
    /// <param name="path">The socket path; an abstract name (leading NUL) has no file and is skipped.</param>
    /// <param name="logger">The server's logger.</param>
    internal static void RemoveStale(string path, ILogger logger)
    {
        if (path[0] == '\0' || !File.Exists(path))
        {
            return;
        }

        try
        {
            if (IsSocket(path))
            {
                File.Delete(path);
                logger.StaleUnixSocketRemoved(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // asyncio logs and goes on: the directory may allow creating a socket but not removing one, and
            // the bind then reports the real problem.
            logger.StaleUnixSocketNotRemoved(path, ex);
        }
    }

    /// <summary>Creates a Unix domain socket bound to <paramref name="path"/> and listening.</summary>
    /// <exception cref="SocketException">The bind or listen failed.</exception>
    internal static Socket CreateListener(string path, int backlog)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool IsSocket(string path)
    {
        // The runtime has no stat() file type, but open() tells a socket apart from every other file: it fails
        // with ENXIO on a socket. Opening read-write keeps a FIFO from blocking until a peer opens it.
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            return false;
        }
        catch (IOException ex) when (ex.HResult == Enxio)
        {
            return true;
        }
    }
}
