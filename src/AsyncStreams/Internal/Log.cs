using System.Net;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Internal;

/// <summary>The transport's and client's log messages, source-generated so that a disabled level costs one check.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Connection to {RemoteEndPoint} lost.")]
    internal static partial void ConnectionLost(ILogger logger, EndPoint? remoteEndPoint, Exception? exception);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Connection to {RemoteEndPoint} reached the end of the stream.")]
    internal static partial void PeerEof(ILogger logger, EndPoint? remoteEndPoint);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Connection to {RemoteEndPoint} closed.")]
    internal static partial void ConnectionClosed(ILogger logger, EndPoint? remoteEndPoint);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Connection to {RemoteEndPoint} aborted.")]
    internal static partial void ConnectionAborted(ILogger logger, EndPoint? remoteEndPoint);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "TLS shutdown with {RemoteEndPoint} did not finish within {Timeout}; closing the socket.")]
    internal static partial void SslShutdownTimedOut(ILogger logger, EndPoint? remoteEndPoint, TimeSpan timeout);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "TLS shutdown with {RemoteEndPoint} failed; closing the socket.")]
    internal static partial void SslShutdownFailed(ILogger logger, EndPoint? remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 106, Level = LogLevel.Debug, Message = "TLS handshake with {RemoteEndPoint} failed.")]
    internal static partial void SslHandshakeFailed(ILogger logger, EndPoint? remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 107, Level = LogLevel.Debug, Message = "TLS handshake with {RemoteEndPoint} did not finish within {Timeout}.")]
    internal static partial void SslHandshakeTimedOut(ILogger logger, EndPoint? remoteEndPoint, TimeSpan timeout);

    [LoggerMessage(EventId = 108, Level = LogLevel.Debug, Message = "Connection to {RemoteEndPoint} upgraded to TLS ({Protocol}, {CipherSuite}).")]
    internal static partial void TlsStarted(ILogger logger, EndPoint? remoteEndPoint, System.Security.Authentication.SslProtocols protocol, System.Net.Security.TlsCipherSuite cipherSuite);

    [LoggerMessage(EventId = 109, Level = LogLevel.Error, Message = "Unexpected error in the transport of the connection to {RemoteEndPoint}; aborting it.")]
    internal static partial void UnexpectedError(ILogger logger, EndPoint? remoteEndPoint, Exception exception);

    [LoggerMessage(EventId = 110, Level = LogLevel.Debug, Message = "Connection to {RemoteEndPoint} was idle for {Timeout}; closing it (reset: {Reset}).")]
    internal static partial void IdleTimeoutClosed(ILogger logger, EndPoint? remoteEndPoint, TimeSpan timeout, bool reset);

    [LoggerMessage(EventId = 120, Level = LogLevel.Debug, Message = "Connection attempt to {EndPoint} failed.")]
    internal static partial void ConnectAttemptFailed(ILogger logger, EndPoint endPoint, Exception exception);

    [LoggerMessage(EventId = 121, Level = LogLevel.Debug, Message = "Connected to {EndPoint} after {Attempts} attempt(s).")]
    internal static partial void Connected(ILogger logger, EndPoint endPoint, int attempts);
}
