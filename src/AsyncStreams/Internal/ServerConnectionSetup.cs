using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace AsyncStreams.Internal;

/// <summary>
/// What every connection of one <see cref="StreamServer"/> shares: made once per server, so that each
/// <see cref="ServerConnection"/> holds one reference to it instead of five (an idle connection's size is
/// multiplied by the number of connections).
/// </summary>
/// <param name="Callback">The user's client-connected callback.</param>
/// <param name="Ssl">The TLS options, or null for plain connections.</param>
/// <param name="Settings">The transport settings.</param>
/// <param name="Logger">The server's logger.</param>
/// <param name="Ended">Called once when a connection has ended.</param>
internal sealed record ServerConnectionSetup(
    Func<StreamReader, StreamWriter, Task> Callback,
    SslServerAuthenticationOptions? Ssl,
    TransportSettings Settings,
    ILogger Logger,
    Action<ServerConnection> Ended);
