using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Internal;

/// <summary>
/// Connects to the first of several addresses that answers, as RFC 8305 ("Happy Eyeballs") describes: address
/// families alternate, the next attempt starts when the previous one fails or after a delay, the first
/// connection wins and the others are closed.
/// </summary>
/// <remarks>asyncio equivalent: the happy_eyeballs_delay / interleave=1 path of <c>loop.create_connection</c>.</remarks>
internal static class HappyEyeballs
{
    /// <summary>Orders end points so that address families alternate, starting with the first one's (RFC 8305 section 4).</summary>
    internal static List<IPEndPoint> Interleave(IReadOnlyList<IPEndPoint> endPoints)
    {
        var byFamily = new List<Queue<IPEndPoint>>();
        foreach (IPEndPoint endPoint in endPoints)
        {
            Queue<IPEndPoint>? queue = byFamily.Find(q => q.Peek().AddressFamily == endPoint.AddressFamily);
            if (queue is null)
            {
                queue = new Queue<IPEndPoint>();
                byFamily.Add(queue);
                queue.Enqueue(endPoint);
            }
            else
            {
                queue.Enqueue(endPoint);
            }
        }

        var ordered = new List<IPEndPoint>(endPoints.Count);
        while (ordered.Count < endPoints.Count)
        {
            foreach (Queue<IPEndPoint> queue in byFamily)
            {
                if (queue.Count > 0)
                {
                    ordered.Add(queue.Dequeue());
                }
            }
        }

        return ordered;
    }

    /// <summary>Connects a TCP socket to one of <paramref name="endPoints"/>.</summary>
    /// <param name="endPoints">The candidates, in the resolver's order; they are interleaved by family.</param>
    /// <param name="localEndPoint">The end point to bind each attempt to, or null.</param>
    /// <param name="delay">How long an attempt runs alone before the next starts; null tries one after another.</param>
    /// <param name="logger">Logs failed attempts.</param>
    /// <param name="cancellationToken">Cancels every attempt.</param>
    /// <returns>The connected socket; the caller owns it.</returns>
    /// <exception cref="SocketException">Every attempt failed; this is the first attempt's error.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    internal static async Task<Socket> ConnectAsync(
        IReadOnlyList<IPEndPoint> endPoints, EndPoint? localEndPoint, TimeSpan? delay, ILogger logger,
        CancellationToken cancellationToken)
    {
        if (endPoints.Count == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        List<IPEndPoint> ordered = Interleave(endPoints);
        if (delay is not TimeSpan attemptDelay || ordered.Count == 1)
        {
            return await ConnectSequentiallyAsync(ordered, localEndPoint, logger, cancellationToken).ConfigureAwait(false);
        }

        using var losers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = new List<Task<Socket>>(ordered.Count);
        var running = new List<Task>(ordered.Count + 1);
        var errors = new List<Exception>();
        Task? delayTask = null;
        Socket? winner = null;

        void StartNext()
        {
            Task<Socket> attempt = AttemptAsync(ordered[started.Count], localEndPoint, losers.Token);
            started.Add(attempt);
            running.Add(attempt);

            // Each start restarts the clock: the next attempt waits for this one's head start (RFC 8305 section 5).
            delayTask = started.Count < ordered.Count ? Task.Delay(attemptDelay, losers.Token) : null;
        }

        try
        {
            StartNext();
            while (running.Count > 0 || delayTask is not null)
            {
                Task done = delayTask is null
                    ? await Task.WhenAny(running).ConfigureAwait(false)
                    : await Task.WhenAny([.. running, delayTask]).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (done == delayTask)
                {
                    StartNext();
                    continue;
                }

                running.Remove(done);
                var attempt = (Task<Socket>)done;
                IPEndPoint endPoint = ordered[started.IndexOf(attempt)];
                if (attempt.IsCompletedSuccessfully)
                {
                    winner = attempt.Result;
                    Log.Connected(logger, endPoint, started.Count);
                    break;
                }

                Exception error = attempt.Exception?.InnerException ?? new SocketException((int)SocketError.OperationAborted);
                errors.Add(error);
                Log.ConnectAttemptFailed(logger, endPoint, error);
                if (started.Count < ordered.Count)
                {
                    // This attempt failed before its head start ran out: the next one starts now.
                    StartNext();
                }
            }
        }
        finally
        {
            // The losers are cancelled, and any that connected anyway are closed.
            await losers.CancelAsync().ConfigureAwait(false);
            foreach (Task<Socket> attempt in started)
            {
                try
                {
                    Socket socket = await attempt.ConfigureAwait(false);
                    if (!ReferenceEquals(socket, winner))
                    {
                        socket.Dispose();
                    }
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // A loser's failure does not matter once there is a winner or an error to report.
                }
            }
        }

        if (winner is not null)
        {
            return winner;
        }

        cancellationToken.ThrowIfCancellationRequested();
        ExceptionDispatchInfo.Throw(errors[0]);
        return null!;
    }

    private static async Task<Socket> ConnectSequentiallyAsync(
        List<IPEndPoint> ordered, EndPoint? localEndPoint, ILogger logger, CancellationToken cancellationToken)
    {
        Exception? first = null;
        for (int i = 0; i < ordered.Count; i++)
        {
            try
            {
                Socket socket = await AttemptAsync(ordered[i], localEndPoint, cancellationToken).ConfigureAwait(false);
                Log.Connected(logger, ordered[i], i + 1);
                return socket;
            }
            catch (SocketException ex)
            {
                Log.ConnectAttemptFailed(logger, ordered[i], ex);
                first ??= ex;
            }
        }

        ExceptionDispatchInfo.Throw(first!);
        return null!;
    }

    private static async Task<Socket> AttemptAsync(IPEndPoint endPoint, EndPoint? localEndPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (localEndPoint is not null)
            {
                socket.Bind(localEndPoint);
            }

            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
