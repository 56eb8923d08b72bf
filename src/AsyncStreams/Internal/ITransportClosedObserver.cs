namespace AsyncStreams.Internal;

/// <summary>
/// Told when a transport has closed: its socket is closed and its reader has seen the end, the moment
/// <see cref="StreamWriter.WaitClosedAsync"/> completes. A server connection uses it to leave its server's set
/// without keeping a suspended wait of its own for the life of every connection.
/// </summary>
internal interface ITransportClosedObserver
{
    /// <summary>Called once, on the thread that completed the close; must be quick and must not throw.</summary>
    void OnTransportClosed();
}
