using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AsyncStreams.Internal;

/// <summary>
/// asyncio's event loop for plain sockets on Linux: a thread that waits in epoll_wait and runs each readable
/// connection's receive loop on itself, so that a message costs the receive, the user's code and the send on one
/// thread, with no hand-off to the thread pool. There is one loop per processor the process may run on, made on
/// first use; connections are spread over them in turn.
/// </summary>
/// <remarks>
/// <para>
/// Without it, the runtime's socket engine wakes on readiness and queues the continuation to the thread pool:
/// two threads and a wake-up per message. Its per-socket "inline completions" setting is only reachable through the
/// process-wide <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>, which a library must not set for its user.
/// </para>
/// <para>
/// Only readiness for reading goes through the loop; sends stay on the socket (an immediate non-blocking send,
/// and the runtime's engine when the kernel's buffer is full). Registrations are edge-triggered and never
/// removed by hand: closing the socket removes it from the epoll set, and an event for a registration that has
/// ended finds no handler with its key and is ignored.
/// </para>
/// <para>
/// A registration's key, the data epoll reports with each event, is its slot in the loop's handler table (low 32 bits)
/// and a sequence number (high 32 bits): a slot is reused once its registration has ended, and the sequence number
/// tells an event for the slot's previous socket (one already in the batch epoll_wait returned) from one for the
/// current. A slot costs a connection 8 bytes of the table, where a concurrent dictionary's entry cost 64.
/// </para>
/// <para>
/// Off with the runtime switch <c>AsyncStreams.UseEventLoop=false</c> (runtimeconfig) or the environment variable
/// <c>ASYNCSTREAMS_USE_EVENT_LOOP=0</c>, and on every platform but Linux (x86-64, ARM64): then the receive loop
/// waits with zero-byte receives on the runtime's engine.
/// </para>
/// </remarks>
internal sealed class EventLoop
{
    private const int MaxEvents = 256;

    private static readonly Lock s_gate = new();
    private static EventLoop[]? s_loops;
    private static int s_next;
    private static int s_nextId;

    private readonly int _epoll;

    // The handler table: written under _slotsGate, read by the loop's thread without it (a slot is one reference,
    // and a grown table is published only after the old one's slots were copied into it).
    private readonly Lock _slotsGate = new();
    private IEventLoopHandler?[] _slots = new IEventLoopHandler?[64];
    private int[] _freeSlots = new int[64];
    private int _freeCount;
    private int _slotsUsed;        // Slots handed out so far; those below it and not free hold a handler.
    private int _count;

    private EventLoop(int epoll, int index)
    {
        _epoll = epoll;
        var thread = new Thread(Run)
        {
            IsBackground = true,
            Name = "AsyncStreams event loop " + index.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        thread.Start();
    }

    /// <summary>Gets whether new connections use the event loop (see the remarks of <see cref="EventLoop"/>).</summary>
    internal static bool IsEnabled { get; } = EventLoopInterop.IsSupported && ReadSwitch();

    /// <summary>Gets the number of registrations the loops hold (connections whose receive loop has not ended).</summary>
    internal static int RegistrationCount
    {
        get
        {
            EventLoop[]? loops = Volatile.Read(ref s_loops);
            return loops is null ? 0 : loops.Sum(loop => Volatile.Read(ref loop._count));
        }
    }

    /// <summary>
    /// Registers <paramref name="socket"/> with one of the loops (in turn), edge-triggered for reading; from then on
    /// that loop's thread calls <paramref name="handler"/> on each event, possibly before this returns.
    /// </summary>
    /// <param name="socket">The connected socket.</param>
    /// <param name="handler">What the events call; told the loop and its key first.</param>
    /// <returns>False when the loop is off or unavailable, or the registration failed.</returns>
    internal static bool TryRegister(Socket socket, IEventLoopHandler handler)
    {
        if (!IsEnabled)
        {
            return false;
        }

        EventLoop[]? loops = GetLoops();
        if (loops is null)
        {
            return false;
        }

        EventLoop loop = loops[(int)((uint)Interlocked.Increment(ref s_next) % (uint)loops.Length)];
        return loop.TryAdd(socket, handler);
    }

    /// <summary>Registers <paramref name="socket"/> with this loop, as <see cref="TryRegister"/> does with the loop it picks.</summary>
    /// <param name="socket">The connected socket.</param>
    /// <param name="handler">What the events call; told this loop and its key first.</param>
    /// <returns>False when the registration failed.</returns>
    internal bool TryAdd(Socket socket, IEventLoopHandler handler)
    {
        long id = TakeSlot(handler);
        int fd = (int)socket.SafeHandle.DangerousGetHandle();
        if (EventLoopInterop.AddEdgeTriggeredInput(_epoll, fd, (ulong)id) != 0)
        {
            Unregister(id);
            return false;
        }

        return true;
    }

    /// <summary>Removes the registration <paramref name="id"/>: events still reported for its socket are ignored.</summary>
    internal void Unregister(long id)
    {
        int slot = (int)(uint)id;
        lock (_slotsGate)
        {
            IEventLoopHandler?[] slots = _slots;
            if (slot < _slotsUsed && slots[slot] is { } handler && handler.RegistrationId == id)
            {
                Volatile.Write(ref slots[slot], null);
                if (_freeCount == _freeSlots.Length)
                {
                    Array.Resize(ref _freeSlots, _freeSlots.Length * 2);
                }

                _freeSlots[_freeCount++] = slot;
                Volatile.Write(ref _count, _count - 1);
            }
        }
    }

    /// <summary>Gives <paramref name="handler"/> a slot and a key, and tells it both before any event can find it.</summary>
    private long TakeSlot(IEventLoopHandler handler)
    {
        lock (_slotsGate)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _freeSlots[--_freeCount];
            }
            else
            {
                slot = _slotsUsed++;
                if (slot == _slots.Length)
                {
                    var grown = new IEventLoopHandler?[_slots.Length * 2];
                    Array.Copy(_slots, grown, _slots.Length);
                    Volatile.Write(ref _slots, grown);
                }
            }

            long id = ((long)(uint)Interlocked.Increment(ref s_nextId) << 32) | (uint)slot;
            handler.OnRegistering(this, id);
            Volatile.Write(ref _slots[slot], handler);
            Volatile.Write(ref _count, _count + 1);
            return id;
        }
    }

    /// <summary>Finds the live handler of the registration <paramref name="id"/>, if it has not ended.</summary>
    private IEventLoopHandler? Find(long id)
    {
        IEventLoopHandler?[] slots = Volatile.Read(ref _slots);
        uint slot = (uint)id;
        return slot < (uint)slots.Length && Volatile.Read(ref slots[slot]) is { } handler && handler.RegistrationId == id ? handler : null;
    }

    private static bool ReadSwitch()
    {
        if (AppContext.TryGetSwitch("AsyncStreams.UseEventLoop", out bool enabled))
        {
            return enabled;
        }

        string? variable = Environment.GetEnvironmentVariable("ASYNCSTREAMS_USE_EVENT_LOOP");
        return variable is null || !(variable == "0" || variable.Equals("false", StringComparison.OrdinalIgnoreCase));
    }

    private static EventLoop[]? GetLoops()
    {
        EventLoop[]? loops = Volatile.Read(ref s_loops);
        if (loops is not null)
        {
            return loops.Length == 0 ? null : loops;
        }

        lock (s_gate)
        {
            if (s_loops is null)
            {
                var made = new List<EventLoop>();
                for (int i = 0; i < Math.Max(1, Environment.ProcessorCount); i++)
                {
                    int epoll = EventLoopInterop.EpollCreate1(EventLoopInterop.EpollCloexec);
                    if (epoll < 0)
                    {
                        break;
                    }

                    made.Add(new EventLoop(epoll, i));
                }

                Volatile.Write(ref s_loops, [.. made]);
            }

            return s_loops.Length == 0 ? null : s_loops;
        }
    }

    private unsafe void Run()
    {
        (int size, int dataOffset) = EventLoopInterop.EventLayout;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * size));
        while (true)
        {
            int count = EventLoopInterop.EpollWait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                // EINTR: the runtime interrupts threads with signals (to suspend them for a collection, for one).
                // Nothing else can fail for a valid epoll descriptor and buffer.
                continue;
            }

            for (int i = 0; i < count; i++)
            {
                byte* entry = events + (i * size);
                uint flags = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<uint>(entry);
                long id = (long)System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(entry + dataOffset);
                if (Find(id) is { } handler)
                {
                    Dispatch(handler, (flags & EventLoopInterop.EpollHangUpOrError) != 0);
                }
            }
        }
    }

    private static void Dispatch(IEventLoopHandler handler, bool hangUp)
    {
        try
        {
            // Runs the connection's receiving up to its next wait, and the reader's continuations with it.
            handler.OnReady(hangUp);
        }
        catch (Exception ex)
        {
            // The receiver reports its own errors to the reader, and the reader's continuations are async methods,
            // so nothing should arrive here. Something that does is an
            // unhandled exception, raised where the runtime raises those of async void methods (the thread pool),
            // while this thread goes on serving its other connections.
            ThreadPool.UnsafeQueueUserWorkItem(
                static error => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error), ex, preferLocal: false);
        }
    }
}
