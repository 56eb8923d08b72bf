using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Internal;

/// <summary>
/// The server's log messages, source-generated so that a disabled level costs one check and no allocation.
/// </summary>
internal static partial class ServerLog
{
    /// <summary>The logger category of the server's messages.</summary>
    internal const string LoggerCategory = "AsyncStreams.StreamServer";

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Listening on {EndPoint}")]
    internal static partial void Listening(this ILogger logger, EndPoint? endPoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Accepting connections on {EndPoint}")]
    internal static partial void ServingStarted(this ILogger logger, EndPoint? endPoint);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Server closed; {Count} connection(s) still live")]
    internal static partial void ServerClosed(this ILogger logger, int count);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Accept on {EndPoint} is out of system resources ({SocketError}); accepting again in {Delay}")]
    internal static partial void AcceptOutOfResources(this ILogger logger, EndPoint? endPoint, SocketError socketError, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Accept on {EndPoint} failed; accepting again in {Delay}")]
    internal static partial void AcceptFailed(this ILogger logger, EndPoint? endPoint, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Accept on {EndPoint} skipped a connection that was gone before it was accepted ({SocketError})")]
    internal static partial void AcceptedConnectionGone(this ILogger logger, EndPoint? endPoint, SocketError socketError);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Connection from {RemoteEndPoint} closed at once: {MaxConnections} connection(s) already live")]
    internal static partial void ConnectionOverLimit(this ILogger logger, EndPoint? remoteEndPoint, int maxConnections);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "TLS handshake with {RemoteEndPoint} failed; connection closed")]
    internal static partial void TlsHandshakeFailed(this ILogger logger, EndPoint? remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 9, Level = LogLevel.Error, Message = "Unhandled exception in the connection callback for {RemoteEndPoint}; connection closed")]
    internal static partial void CallbackFailed(this ILogger logger, EndPoint? remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Removed the stale Unix socket file {Path}")]
    internal static partial void StaleUnixSocketRemoved(this ILogger logger, string path);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Unable to check or remove the stale Unix socket file {Path}")]
    internal static partial void StaleUnixSocketNotRemoved(this ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "Skipped {Address}, which {Host} resolves to but this host cannot listen on ({SocketError})")]
    internal static partial void AddressSkipped(this ILogger logger, IPAddress address, string host, SocketError socketError);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug, Message = "Port {Port} is taken on {Address}; binding every listener again on a new port")]
    internal static partial void SharedPortTaken(this ILogger logger, int port, IPAddress address);

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "Connection from {RemoteEndPoint} accepted")]
    internal static partial void ConnectionAccepted(this ILogger logger, EndPoint? remoteEndPoint);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "Connection from {RemoteEndPoint} was lost before it could be served")]
    internal static partial void ConnectionStartFailed(this ILogger logger, EndPoint? remoteEndPoint, Exception exception);
}
