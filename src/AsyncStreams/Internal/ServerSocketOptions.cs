using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>
/// Sets SO_REUSEADDR and SO_REUSEPORT on listening sockets by their raw option numbers.
/// </summary>
/// <remarks>
/// <see cref="SocketOptionName.ReuseAddress"/> cannot be used on Unix: the runtime sets SO_REUSEPORT along with
/// SO_REUSEADDR there, which would let a second server silently share a port that asyncio's
/// <c>reuse_address</c> only lets it take over from TIME_WAIT. The raw options keep the two apart.
/// </remarks>
internal static class ServerSocketOptions
{
    private const int LinuxSolSocket = 1;
    private const int LinuxSoReuseAddr = 2;
    private const int LinuxSoReusePort = 15;

    // The BSD values, shared by macOS and FreeBSD.
    private const int BsdSolSocket = 0xffff;
    private const int BsdSoReuseAddr = 0x4;
    private const int BsdSoReusePort = 0x200;

    /// <summary>Sets SO_REUSEADDR on Unix; does nothing on Windows, where it would let another socket steal the port (asyncio skips it there too).</summary>
    internal static void SetReuseAddress(Socket socket)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsAndroid())
        {
            SetInt(socket, LinuxSolSocket, LinuxSoReuseAddr, 1);
        }
        else if (IsBsd())
        {
            SetInt(socket, BsdSolSocket, BsdSoReuseAddr, 1);
        }
    }

    /// <summary>Sets SO_REUSEPORT so that several sockets (and processes) listen on one port.</summary>
    /// <exception cref="PlatformNotSupportedException">The operating system has no SO_REUSEPORT (Windows).</exception>
    internal static void SetReusePort(Socket socket)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsAndroid())
        {
            SetInt(socket, LinuxSolSocket, LinuxSoReusePort, 1);
        }
        else if (IsBsd())
        {
            SetInt(socket, BsdSolSocket, BsdSoReusePort, 1);
        }
        else
        {
            throw new PlatformNotSupportedException("ReusePort (SO_REUSEPORT) is not supported on this operating system.");
        }
    }

    private static bool IsBsd() =>
        OperatingSystem.IsMacOS() || OperatingSystem.IsMacCatalyst() || OperatingSystem.IsIOS()
        || OperatingSystem.IsTvOS() || OperatingSystem.IsFreeBSD();

    private static void SetInt(Socket socket, int level, int name, int value)
    {
        Span<byte> buffer = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(buffer, value);
        socket.SetRawSocketOption(level, name, buffer);
    }
}
