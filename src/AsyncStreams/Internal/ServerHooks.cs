using System.Net.Sockets;

namespace AsyncStreams.Internal;

/// <summary>
/// The parts of a server's accept loop that tests replace: the accept call itself (to inject the errors a
/// loaded host produces, such as EMFILE) and the back-off after a resource error.
/// </summary>
internal sealed class ServerHooks
{
    /// <summary>Gets the hooks every public entry point uses.</summary>
    internal static ServerHooks Default { get; } = new();

    /// <summary>
    /// Gets how long the accept loop waits after a resource error before accepting again. Default 1 second,
    /// asyncio's <c>constants.ACCEPT_RETRY_DELAY</c>.
    /// </summary>
    internal TimeSpan AcceptRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets the accept call: takes the listening socket, returns the next connected socket.</summary>
    internal Func<Socket, CancellationToken, ValueTask<Socket>> Accept { get; init; } =
        static (listener, cancellationToken) => listener.AcceptAsync(cancellationToken);
}
