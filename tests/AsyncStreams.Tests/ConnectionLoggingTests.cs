using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using static AsyncStreams.Tests.ConnectionTestKit;

namespace AsyncStreams.Tests;

public class ConnectionLoggingTests
{
    [Fact]
    public async Task LoggerFactory_PeerResets_LogsConnectionLostAndClosed()
    {
        using var cts = Bounded();
        using Socket listener = Listen();
        var log = new CapturingLoggerFactory();
        var (reader, writer, peer) = await ConnectAsync(listener, new ConnectionOptions { LoggerFactory = log }, cts.Token);
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();

        await Assert.ThrowsAsync<IOException>(async () => await reader.ReadAsync(1, cts.Token));
        await writer.WaitClosedAsync().WaitAsync(cts.Token);

        Assert.Contains(log.Entries, e => e.Category == "AsyncStreams.Connection" && e.EventName == "Connected" && e.Level == LogLevel.Debug);
        Assert.Contains(log.Entries, e => e.EventName == "ConnectionLost" && e.Exception is SocketException);
        Assert.Contains(log.Entries, e => e.EventName == "ConnectionClosed" && e.Message.Contains(writer.RemoteEndPoint!.ToString()!, StringComparison.Ordinal));
    }

    private sealed record Entry(string Category, LogLevel Level, string? EventName, string Message, Exception? Exception);

    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => owner.Entries.Enqueue(new Entry(category, logLevel, eventId.Name, formatter(state, exception), exception));
        }
    }
}
