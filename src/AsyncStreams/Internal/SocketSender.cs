using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace AsyncStreams.Internal;

/// <summary>
/// A reusable gather send: one <see cref="SocketAsyncEventArgs"/> per connection, awaited as a
/// <see cref="ValueTask{TResult}"/> without allocating. <see cref="Socket.SendAsync(IList{ArraySegment{byte}})"/>
/// would allocate a task per call.
/// </summary>
/// <remarks>
/// The continuation runs on the thread that completes the send (a thread-pool thread), as the
/// socket's own pooled operations do, so the send loop goes on without another hop.
/// </remarks>
internal sealed class SocketSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _source;

    internal SocketSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
        _source.RunContinuationsAsynchronously = false;
    }

    /// <summary>Sends the <paramref name="segments"/> in one call and returns how many bytes the operating system took.</summary>
    internal ValueTask<int> SendAsync(Socket socket, List<ArraySegment<byte>> segments)
    {
        _source.Reset();
        BufferList = segments;
        if (socket.SendAsync(this))
        {
            return new ValueTask<int>(this, _source.Version);
        }

        return SocketError == SocketError.Success
            ? new ValueTask<int>(BytesTransferred)
            : ValueTask.FromException<int>(new SocketException((int)SocketError));
    }

    /// <inheritdoc/>
    public int GetResult(short token) => _source.GetResult(token);

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _source.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);

    /// <inheritdoc/>
    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        if (SocketError == SocketError.Success)
        {
            _source.SetResult(BytesTransferred);
        }
        else
        {
            _source.SetException(new SocketException((int)SocketError));
        }
    }
}
