using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Tests;

/// <summary>A logger factory that records every message, so tests can assert what the server logged.</summary>
internal sealed class ServerTestLog : ILoggerFactory
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly AppendSignal _added = new();

    public IReadOnlyCollection<Entry> Entries => _entries;

    public IEnumerable<Entry> WithEventId(int id) => _entries.Where(e => e.EventId.Id == id);

    /// <summary>Waits until an entry matching <paramref name="predicate"/> has been logged.</summary>
    public Task<Entry> WaitForAsync(Func<Entry, bool> predicate, CancellationToken cancellationToken) =>
        _added.WaitForAsync(_entries, predicate, cancellationToken);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private void Add(Entry entry)
    {
        _entries.Enqueue(entry);
        _added.Pulse();
    }

    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    private sealed class Logger(ServerTestLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
