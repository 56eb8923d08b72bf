using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace AsyncStreams.Internal;

/// <summary>
/// The instruments of the "AsyncStreams" meter: one set per <see cref="IMeterFactory"/>, and one shared by every
/// connection and server whose options name no factory.
/// </summary>
/// <remarks>
/// Every recording first asks the instrument whether anything listens (<see cref="Instrument.Enabled"/>), so a
/// process that collects no metrics pays one field read per call. Tags are low-cardinality only, and their arrays are
/// made once (see <see cref="MetricsTags"/>) so that a recording allocates nothing.
/// </remarks>
internal sealed class Metrics
{
    /// <summary>The name of the meter.</summary>
    internal const string MeterName = "AsyncStreams";

    private static readonly string? Version = typeof(Metrics).Assembly.GetName().Version?.ToString();
    private static readonly Lazy<Metrics> Shared = new(() => new Metrics(new Meter(MeterName, Version)));
    private static readonly ConditionalWeakTable<IMeterFactory, Metrics> ByFactory = [];

    private Metrics(Meter meter)
    {
        ActiveConnections = meter.CreateUpDownCounter<long>(
            "asyncstreams.server.active_connections", "{connection}",
            "Number of connections a server is serving now (accepted and not yet closed).");
        ConnectionDuration = meter.CreateHistogram(
            "asyncstreams.server.connection.duration", "s",
            "Duration of server connections, from accept until the socket is closed.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] });
        RejectedConnections = meter.CreateCounter<long>(
            "asyncstreams.server.rejected_connections", "{connection}",
            "Number of connections a server closed at once because MaxConnections were already live.");
        TlsHandshakeDuration = meter.CreateHistogram(
            "asyncstreams.tls.handshake.duration", "s",
            "Duration of TLS handshakes, successful or not.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60] });
        BytesReceived = meter.CreateCounter<long>(
            "asyncstreams.bytes_received", "By",
            "Number of bytes received from peers (after TLS decryption).");
        BytesSent = meter.CreateCounter<long>(
            "asyncstreams.bytes_sent", "By",
            "Number of bytes handed to the operating system for peers (before TLS encryption).");
    }

    /// <summary>Gets the number of connections a server serves now.</summary>
    internal UpDownCounter<long> ActiveConnections { get; }

    /// <summary>Gets the duration of server connections.</summary>
    internal Histogram<double> ConnectionDuration { get; }

    /// <summary>Gets the duration of TLS handshakes.</summary>
    internal Histogram<double> TlsHandshakeDuration { get; }

    /// <summary>Gets the number of connections rejected over MaxConnections.</summary>
    internal Counter<long> RejectedConnections { get; }

    /// <summary>Gets the number of application bytes received.</summary>
    internal Counter<long> BytesReceived { get; }

    /// <summary>Gets the number of application bytes sent.</summary>
    internal Counter<long> BytesSent { get; }

    /// <summary>Returns the instruments of <paramref name="factory"/>'s meter, or the shared ones when it is null.</summary>
    internal static Metrics For(IMeterFactory? factory) =>
        factory is null
            ? Shared.Value
            : ByFactory.GetValue(factory, static f => new Metrics(f.Create(new MeterOptions(MeterName) { Version = Version })));

    /// <summary>Counts a connection a server admitted; returns whether it was counted, so that its end is counted alike.</summary>
    internal bool ConnectionOpened(KeyValuePair<string, object?>[] tags)
    {
        if (!ActiveConnections.Enabled)
        {
            return false;
        }

        ActiveConnections.Add(1, tags);
        return true;
    }

    /// <summary>Counts the end of a server connection accepted at <paramref name="acceptedAt"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal void ConnectionClosed(long acceptedAt, bool countedOpen, KeyValuePair<string, object?>[] tags)
    {
        if (countedOpen)
        {
            ActiveConnections.Add(-1, tags);
        }

        if (ConnectionDuration.Enabled)
        {
            ConnectionDuration.Record(Stopwatch.GetElapsedTime(acceptedAt).TotalSeconds, tags);
        }
    }

    /// <summary>Counts a connection closed at once over MaxConnections.</summary>
    internal void ConnectionRejected(KeyValuePair<string, object?>[] tags)
    {
        if (RejectedConnections.Enabled)
        {
            RejectedConnections.Add(1, tags);
        }
    }
}
