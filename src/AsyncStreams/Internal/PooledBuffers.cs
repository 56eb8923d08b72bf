using System.Buffers;

namespace AsyncStreams.Internal;

/// <summary>
/// The transport's rentals from <see cref="ArrayPool{T}.Shared"/> (send-queue chunks and scratch buffers), with an
/// optional count of the arrays rented and not yet returned, so that tests can prove every one comes back.
/// </summary>
/// <remarks>
/// The count is kept only when the runtime switch <c>AsyncStreams.TrackPooledBuffers</c> is set (the test project sets
/// it). The switch is read once into a static readonly field, which the JIT treats as a constant, so without it a rental
/// costs exactly the pool's own call.
/// </remarks>
internal static class PooledBuffers
{
    /// <summary>The runtime switch that turns the count on.</summary>
    internal const string TrackingSwitch = "AsyncStreams.TrackPooledBuffers";

    private static readonly bool Tracking = AppContext.TryGetSwitch(TrackingSwitch, out bool enabled) && enabled;

    private static long s_outstanding;

    /// <summary>Gets whether rentals are counted.</summary>
    internal static bool IsTracking => Tracking;

    /// <summary>Gets the number of arrays rented and not yet returned (always 0 unless <see cref="IsTracking"/>).</summary>
    internal static long Outstanding => Volatile.Read(ref s_outstanding);

    /// <summary>Rents an array of at least <paramref name="minimumLength"/> bytes.</summary>
    internal static byte[] Rent(int minimumLength)
    {
        byte[] array = ArrayPool<byte>.Shared.Rent(minimumLength);
        if (Tracking)
        {
            Interlocked.Increment(ref s_outstanding);
        }

        return array;
    }

    /// <summary>Returns an array rented with <see cref="Rent"/>.</summary>
    internal static void Return(byte[] array)
    {
        if (Tracking)
        {
            Interlocked.Decrement(ref s_outstanding);
        }

        ArrayPool<byte>.Shared.Return(array);
    }
}
