namespace AsyncStreams.Internal;

/// <summary>
/// The tag sets of the "AsyncStreams" instruments, made once: every combination of the few low-cardinality tags,
/// so that recording a measurement never builds a tag list.
/// </summary>
internal static class MetricsTags
{
    /// <summary>The OpenTelemetry attribute naming the transport: "tcp" or "unix".</summary>
    internal const string NetworkTransport = "network.transport";

    /// <summary>Whether the connection uses TLS: <see langword="true"/> or <see langword="false"/>.</summary>
    internal const string Tls = "asyncstreams.tls";

    /// <summary>Which end of the connection this process is: "client" or "server".</summary>
    internal const string Side = "asyncstreams.side";

    /// <summary>The OpenTelemetry attribute naming the TLS version negotiated, such as "1.3".</summary>
    internal const string TlsProtocolVersion = "tls.protocol.version";

    /// <summary>The OpenTelemetry attribute naming why an operation failed: the full name of the exception type.</summary>
    internal const string ErrorType = "error.type";

    private static readonly object True = true;
    private static readonly object False = false;

    // Indexed by (unix ? 4 : 0) + (tls ? 2 : 0) + (server ? 1 : 0).
    private static readonly KeyValuePair<string, object?>[][] ConnectionSets = MakeConnectionSets();

    // Indexed by (unix ? 2 : 0) + (tls ? 1 : 0).
    private static readonly KeyValuePair<string, object?>[][] ServerSets = MakeServerSets();

    /// <summary>Gets the tags of the byte counters: transport, TLS and side.</summary>
    internal static KeyValuePair<string, object?>[] Connection(bool unix, bool tls, bool server) =>
        ConnectionSets[(unix ? 4 : 0) + (tls ? 2 : 0) + (server ? 1 : 0)];

    /// <summary>Gets the tags of the server instruments: transport and TLS.</summary>
    internal static KeyValuePair<string, object?>[] Server(bool unix, bool tls) =>
        ServerSets[(unix ? 2 : 0) + (tls ? 1 : 0)];

    /// <summary>Gets the value of <see cref="NetworkTransport"/>.</summary>
    internal static string TransportName(bool unix) => unix ? "unix" : "tcp";

    /// <summary>Gets the value of <see cref="Side"/>.</summary>
    internal static string SideName(bool server) => server ? "server" : "client";

    /// <summary>Gets the boxed value of <see cref="Tls"/>.</summary>
    internal static object Boolean(bool value) => value ? True : False;

    private static KeyValuePair<string, object?>[][] MakeConnectionSets()
    {
        var sets = new KeyValuePair<string, object?>[8][];
        for (var i = 0; i < sets.Length; i++)
        {
            sets[i] =
            [
                new(NetworkTransport, TransportName((i & 4) != 0)),
                new(Tls, Boolean((i & 2) != 0)),
                new(Side, SideName((i & 1) != 0)),
            ];
        }

        return sets;
    }

    private static KeyValuePair<string, object?>[][] MakeServerSets()
    {
        var sets = new KeyValuePair<string, object?>[4][];
        for (var i = 0; i < sets.Length; i++)
        {
            sets[i] =
            [
                new(NetworkTransport, TransportName((i & 2) != 0)),
                new(Tls, Boolean((i & 1) != 0)),
            ];
        }

        return sets;
    }
}
