using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AsyncStreams.Internal;

/// <summary>The Linux system calls of <see cref="EventLoop"/>: epoll_create1, epoll_ctl and epoll_wait from libc.</summary>
internal static partial class EventLoopInterop
{
    internal const int EpollCloexec = 0x80000;
    internal const int EpollCtlAdd = 1;
    internal const uint EpollIn = 0x001;
    internal const uint EpollRdHup = 0x2000;
    internal const uint EpollEt = 1u << 31;

    /// <summary>EPOLLERR | EPOLLHUP | EPOLLRDHUP: the peer closed (one or both directions) or the socket failed.</summary>
    internal const uint EpollHangUpOrError = 0x008 | 0x010 | EpollRdHup;

    /// <summary>
    /// Gets the size of one <c>struct epoll_event</c>, and the offset of its data field: the struct is packed to
    /// 12 bytes on x86-64 and naturally aligned (16 bytes, data at 8) elsewhere.
    /// </summary>
    internal static (int Size, int DataOffset) EventLayout =>
        RuntimeInformation.ProcessArchitecture == Architecture.X64 ? (12, 4) : (16, 8);

    /// <summary>Gets whether this process can run the event loop: Linux on x86-64 or ARM64.</summary>
    internal static bool IsSupported =>
        OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static unsafe partial int EpollCtl(int epfd, int op, int fd, byte* eventData);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    internal static unsafe partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    /// <summary>Adds <paramref name="fd"/> to <paramref name="epfd"/>, edge-triggered for input, with <paramref name="data"/> as its key.</summary>
    /// <returns>0, or the errno of the failure.</returns>
    internal static unsafe int AddEdgeTriggeredInput(int epfd, int fd, ulong data)
    {
        int dataOffset = EventLayout.DataOffset;
        byte* buffer = stackalloc byte[16];
        new Span<byte>(buffer, 16).Clear();
        *(uint*)buffer = EpollIn | EpollRdHup | EpollEt;
        Unsafe.WriteUnaligned(buffer + dataOffset, data);
        return EpollCtl(epfd, EpollCtlAdd, fd, buffer) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
