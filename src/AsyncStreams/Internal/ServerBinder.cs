using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Internal;

/// <summary>
/// Turns a host and port into listening sockets the way asyncio's <c>create_server</c> does, with one
/// difference: every listener of a server shares one port, also when the caller asked for port 0.
/// </summary>
internal static class ServerBinder
{
    /// <summary>How many times a port-0 bind picks a new port when the one it got is taken on another address.</summary>
    internal const int SharedPortAttempts = 8;

    /// <summary>Resolves <paramref name="host"/> into the addresses to listen on.</summary>
    /// <param name="host">A host name, an address literal, or null/empty for every interface.</param>
    /// <param name="cancellationToken">Cancels the name resolution.</param>
    /// <returns>The addresses, without duplicates, in resolution order.</returns>
    /// <exception cref="SocketException">The name does not resolve to any address this host can use.</exception>
    internal static async Task<IReadOnlyList<IPAddress>> ResolveAsync(string? host, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(host))
        {
            // asyncio asks getaddrinfo for host=None with AI_PASSIVE, which yields the IPv4 and the IPv6 wildcard.
            return Socket.OSSupportsIPv6 ? [IPAddress.Any, IPAddress.IPv6Any] : [IPAddress.Any];
        }

        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        var resolved = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var addresses = new List<IPAddress>(resolved.Length + 2);
        foreach (var address in resolved)
        {
            AddUsable(addresses, address);
        }

        // RFC 6761 makes "localhost" the loopback on both families, while many hosts files list only one of
        // them; clients resolve it to either, so the server listens on both.
        if (IsLocalhost(host))
        {
            AddUsable(addresses, IPAddress.Loopback);
            AddUsable(addresses, IPAddress.IPv6Loopback);
        }

        if (addresses.Count == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        return addresses;
    }

    /// <summary>Creates, binds and starts listening on one socket per address, all on one port.</summary>
    /// <param name="addresses">The addresses from <see cref="ResolveAsync"/>.</param>
    /// <param name="host">The host as given, for the log.</param>
    /// <param name="port">The port, or 0 for one free port shared by every listener.</param>
    /// <param name="options">The server options (backlog, reuse flags).</param>
    /// <param name="logger">The server's logger.</param>
    /// <returns>The listening sockets, in address order.</returns>
    /// <exception cref="SocketException">A bind or listen failed (for example, the port is in use).</exception>
    /// <exception cref="PlatformNotSupportedException">ReusePort was asked for where SO_REUSEPORT does not exist.</exception>
    internal static Socket[] Bind(IReadOnlyList<IPAddress> addresses, string? host, int port, StreamServerOptions options, ILogger logger)
    {
        for (var attempt = 1; ; attempt++)
        {
            var sockets = TryBindAll(addresses, host, port, options, logger, retryOnTakenPort: port == 0 && attempt < SharedPortAttempts);
            if (sockets is not null)
            {
                return sockets;
            }
        }
    }

    /// <summary>Creates one listening TCP socket.</summary>
    /// <exception cref="SocketException">The bind or listen failed.</exception>
    internal static Socket CreateListener(IPEndPoint endPoint, StreamServerOptions options)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // IPV6_V6ONLY, as asyncio sets it: the IPv4 wildcard has its own socket, and a dual-stack one
                // would collide with it on the shared port.
                socket.DualMode = false;
            }

            if (options.ReuseAddress)
            {
                ServerSocketOptions.SetReuseAddress(socket);
            }

            if (options.ReusePort)
            {
                ServerSocketOptions.SetReusePort(socket);
            }

            socket.Bind(endPoint);
            socket.Listen(options.Backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Binds every address on one port; returns null when a port-0 attempt should start over on a new port.</summary>
    private static Socket[]? TryBindAll(
        IReadOnlyList<IPAddress> addresses, string? host, int port, StreamServerOptions options, ILogger logger, bool retryOnTakenPort)
    {
        var sockets = new List<Socket>(addresses.Count);
        SocketException? skipped = null;
        var sharedPort = port;
        try
        {
            foreach (var address in addresses)
            {
                Socket socket;
                try
                {
                    socket = CreateListener(new IPEndPoint(address, sharedPort), options);
                }
                catch (SocketException ex) when (IsUnusableAddress(ex) && addresses.Count > 1 && !IPAddress.TryParse(host, out _))
                {
                    // A name (or the wildcard) can resolve to an address this host cannot listen on, such as ::1
                    // with IPv6 disabled on the loopback; the other addresses still serve.
                    logger.AddressSkipped(address, host ?? string.Empty, ex.SocketErrorCode);
                    skipped = ex;
                    continue;
                }
                catch (SocketException ex) when (retryOnTakenPort && sockets.Count > 0 && ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
                {
                    // The free port of the first family is taken on this one: start over with a new port.
                    logger.SharedPortTaken(sharedPort, address);
                    DisposeAll(sockets);
                    return null;
                }

                sockets.Add(socket);
                if (sharedPort == 0)
                {
                    sharedPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
                }
            }
        }
        catch
        {
            DisposeAll(sockets);
            throw;
        }

        if (sockets.Count == 0)
        {
            throw skipped ?? new SocketException((int)SocketError.AddressNotAvailable);
        }

        return [.. sockets];
    }

    private static bool IsUnusableAddress(SocketException ex) =>
        ex.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported;

    private static bool IsLocalhost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);

    private static void AddUsable(List<IPAddress> addresses, IPAddress address)
    {
        var usable = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => Socket.OSSupportsIPv4,
            AddressFamily.InterNetworkV6 => Socket.OSSupportsIPv6,
            _ => false,
        };
        if (usable && !addresses.Contains(address))
        {
            addresses.Add(address);
        }
    }

    private static void DisposeAll(List<Socket> sockets)
    {
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        sockets.Clear();
    }
}
