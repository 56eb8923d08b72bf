namespace AsyncStreams.Internal;

/// <summary>What an <see cref="EventLoop"/> registration calls when its socket may be readable.</summary>
internal interface IEventLoopHandler
{
    /// <summary>Called once by <see cref="EventLoop.TryRegister"/> before the first event can come.</summary>
    /// <param name="loop">The loop the socket is being registered with.</param>
    /// <param name="id">The registration's key, for <see cref="EventLoop.Unregister"/>.</param>
    void OnRegistering(EventLoop loop, long id);

    /// <summary>Gets the key <see cref="OnRegistering"/> gave; the loop checks it to ignore events of an ended registration.</summary>
    long RegistrationId { get; }

    /// <summary>
    /// Called on the loop's thread for each readiness event of the socket; runs the connection's receiving (and the
    /// code it wakes) up to its next wait. Must not throw.
    /// </summary>
    /// <param name="hangUp">Whether the event reports the peer's end (FIN or reset) or an error.</param>
    void OnReady(bool hangUp);
}
