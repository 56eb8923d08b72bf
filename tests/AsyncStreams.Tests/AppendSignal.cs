namespace AsyncStreams.Tests;

/// <summary>
/// Lets a test wait for an item to appear in a collection another thread appends to: the appender calls
/// <see cref="Pulse"/> after each append, and <see cref="WaitForAsync{T}"/> rechecks the collection on each pulse.
/// </summary>
internal sealed class AppendSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes every waiter; call it after appending.</summary>
    public void Pulse()
    {
        TaskCompletionSource appended;
        lock (_gate)
        {
            appended = _appended;
            _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        appended.TrySetResult();
    }

    /// <summary>Waits until <paramref name="items"/> holds an item matching <paramref name="predicate"/>, and returns it.</summary>
    public async Task<T> WaitForAsync<T>(IEnumerable<T> items, Func<T, bool> predicate, CancellationToken cancellationToken)
        where T : class
    {
        while (true)
        {
            Task appended;
            lock (_gate)
            {
                appended = _appended.Task;
            }

            var found = items.FirstOrDefault(predicate);
            if (found is not null)
            {
                return found;
            }

            await appended.WaitAsync(cancellationToken);
        }
    }
}
