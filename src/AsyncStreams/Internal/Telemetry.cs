using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace AsyncStreams.Internal;

/// <summary>
/// The "AsyncStreams" activity source (client connects and TLS handshakes) and the handshake measurements.
/// </summary>
/// <remarks>
/// An activity is created only while a listener samples it (<see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null otherwise), and its tags are set only when the listener asked for all data, so tracing costs one check
/// per connect or handshake when nothing listens.
/// </remarks>
internal static class Telemetry
{
    /// <summary>The name of the activity source.</summary>
    internal const string SourceName = "AsyncStreams";

    /// <summary>The name of the activity of a client connect (resolution, connection attempts and TLS handshake).</summary>
    internal const string ConnectActivityName = "AsyncStreams.Connect";

    /// <summary>The name of the activity of a TLS handshake, client or server.</summary>
    internal const string TlsHandshakeActivityName = "AsyncStreams.TlsHandshake";

    /// <summary>Gets the activity source.</summary>
    internal static ActivitySource Source { get; } = new(SourceName, typeof(Telemetry).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Runs a client connect (<paramref name="connect"/> starts it once the activity is current, so that the TLS
    /// handshake's activity is its child) inside its activity.
    /// </summary>
    internal static async Task<(StreamReader Reader, StreamWriter Writer)> TraceConnectAsync(
        string address, int? port, bool unix, bool tls, Func<Task<(StreamReader Reader, StreamWriter Writer)>> connect)
    {
        using Activity? activity = StartConnect(address, port, unix, tls);
        try
        {
            var connection = await connect().ConfigureAwait(false);
            Connected(activity, connection.Writer);
            return connection;
        }
        catch (Exception ex) when (Failed(activity, ex))
        {
            throw;
        }
    }

    /// <summary>Starts the activity of a client connect, or returns null when nothing listens.</summary>
    internal static Activity? StartConnect(string address, int? port, bool unix, bool tls)
    {
        Activity? activity = Source.StartActivity(ConnectActivityName, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = port is int p ? $"connect {address}:{p}" : $"connect {address}";
            activity.SetTag("server.address", address);
            if (port is int number)
            {
                activity.SetTag("server.port", number);
            }

            activity.SetTag(MetricsTags.NetworkTransport, MetricsTags.TransportName(unix));
            activity.SetTag(MetricsTags.Tls, MetricsTags.Boolean(tls));
        }

        return activity;
    }

    /// <summary>Records the peer a connect reached.</summary>
    internal static void Connected(Activity? activity, StreamWriter writer)
    {
        if (activity is { IsAllDataRequested: true } && writer.RemoteEndPoint is IPEndPoint peer)
        {
            activity.SetTag("network.peer.address", peer.Address.ToString());
            activity.SetTag("network.peer.port", peer.Port);
        }
    }

    /// <summary>Marks an activity failed with <paramref name="exception"/>; returns false so that it can serve as an exception filter that catches nothing.</summary>
    internal static bool Failed(Activity? activity, Exception exception)
    {
        if (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            if (activity.IsAllDataRequested)
            {
                activity.SetTag(MetricsTags.ErrorType, ErrorType(exception));
            }
        }

        return false;
    }

    /// <summary>Starts the activity of a TLS handshake, or returns null when nothing listens.</summary>
    internal static Activity? StartTlsHandshake(object options, EndPoint? remote)
    {
        Activity? activity = Source.StartActivity(TlsHandshakeActivityName, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            bool server = options is SslServerAuthenticationOptions;
            activity.DisplayName = server ? "TLS server handshake" : "TLS client handshake";
            activity.SetTag(MetricsTags.Side, MetricsTags.SideName(server));
            activity.SetTag(MetricsTags.NetworkTransport, MetricsTags.TransportName(remote is UnixDomainSocketEndPoint));
            if (options is SslClientAuthenticationOptions { TargetHost: { Length: > 0 } host })
            {
                activity.SetTag("server.address", host);
            }
        }

        return activity;
    }

    /// <summary>Records a successful handshake that started at <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal static void TlsHandshakeSucceeded(
        Activity? activity, long started, SslStream ssl, object options, EndPoint? remote, Metrics metrics)
    {
        string? version = ProtocolVersion(ssl);
        if (version is not null && activity is { IsAllDataRequested: true })
        {
            activity.SetTag(MetricsTags.TlsProtocolVersion, version);
        }

        RecordTlsHandshake(metrics, started, options, remote, MetricsTags.TlsProtocolVersion, version);
    }

    /// <summary>Records a failed handshake; returns false so that it can serve as an exception filter that catches nothing.</summary>
    internal static bool TlsHandshakeFailed(
        Activity? activity, long started, Exception exception, object options, EndPoint? remote, Metrics metrics)
    {
        Failed(activity, exception);
        RecordTlsHandshake(metrics, started, options, remote, MetricsTags.ErrorType, ErrorType(exception));
        return false;
    }

    /// <summary>Gets the value of the error.type attribute: the full name of the exception's type.</summary>
    internal static string ErrorType(Exception exception) => exception.GetType().FullName ?? exception.GetType().Name;

    private static void RecordTlsHandshake(
        Metrics metrics, long started, object options, EndPoint? remote, string outcomeTag, string? outcome)
    {
        if (!metrics.TlsHandshakeDuration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { MetricsTags.Side, MetricsTags.SideName(options is SslServerAuthenticationOptions) },
            { MetricsTags.NetworkTransport, MetricsTags.TransportName(remote is UnixDomainSocketEndPoint) },
        };
        if (outcome is not null)
        {
            tags.Add(outcomeTag, outcome);
        }

        metrics.TlsHandshakeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    private static string? ProtocolVersion(SslStream ssl)
    {
#pragma warning disable SYSLIB0039 // The old protocol names are matched only to report them, never to enable them.
#pragma warning disable CA5397 // Likewise: reporting a negotiated version, not choosing one.
        return ssl.SslProtocol switch
        {
            SslProtocols.Tls13 => "1.3",
            SslProtocols.Tls12 => "1.2",
            SslProtocols.Tls11 => "1.1",
            SslProtocols.Tls => "1.0",
            _ => null,
        };
#pragma warning restore CA5397
#pragma warning restore SYSLIB0039
    }
}
