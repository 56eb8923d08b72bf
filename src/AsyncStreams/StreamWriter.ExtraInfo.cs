using System.Net;

namespace AsyncStreams;

/// <summary>Connection information of the writer.</summary>
public sealed partial class StreamWriter
{
    /// <summary>Gets the local end point of the connection ("sockname"); an <see cref="IPEndPoint"/> or a <see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/>.</summary>
    /// <remarks>asyncio equivalent: <c>get_extra_info("sockname")</c>. Read once when the connection starts, so it stays available after close.</remarks>
    public EndPoint? LocalEndPoint => _transport.LocalEndPoint;

    /// <summary>Gets the remote end point of the connection ("peername").</summary>
    /// <remarks>asyncio equivalent: <c>get_extra_info("peername")</c>. Read once when the connection starts, so it stays available after close.</remarks>
    public EndPoint? RemoteEndPoint => _transport.RemoteEndPoint;

    /// <summary>Gets optional information about the connection by asyncio's key names.</summary>
    /// <param name="name">
    /// One of "peername" (<see cref="RemoteEndPoint"/>), "sockname" (<see cref="LocalEndPoint"/>), "socket" (the
    /// <see cref="System.Net.Sockets.Socket"/>), "ssl_object" (<see cref="SslStream"/>), "peercert" (the peer's
    /// <see cref="System.Security.Cryptography.X509Certificates.X509Certificate"/>), "cipher" (the negotiated
    /// <see cref="System.Net.Security.TlsCipherSuite"/>) or "sslcontext" (the <see cref="System.Net.Security.SslClientAuthenticationOptions"/>
    /// or <see cref="System.Net.Security.SslServerAuthenticationOptions"/> the handshake used).
    /// </param>
    /// <param name="defaultValue">The value returned for an unknown key, or a TLS key on a plain connection. Default <see langword="null"/>.</param>
    /// <returns>The information, or <paramref name="defaultValue"/>.</returns>
    /// <remarks>asyncio equivalent: <c>StreamWriter.get_extra_info(name, default=None)</c>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    public object? GetExtraInfo(string name, object? defaultValue = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var ssl = _transport.SslStream;
        object? value = name switch
        {
            "peername" => RemoteEndPoint,
            "sockname" => LocalEndPoint,
            "socket" => _transport.Socket,
            "ssl_object" => ssl,
            "peercert" => ssl?.RemoteCertificate,
            "cipher" => ssl is null ? null : ssl.NegotiatedCipherSuite,
            "sslcontext" => ssl is null ? null : _transport.SslOptions,
            _ => null,
        };
        return value ?? defaultValue;
    }
}
