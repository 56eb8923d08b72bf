using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AsyncStreams.Tests;

/// <summary>
/// The collection of the fault, soak, leak and telemetry tests. They count the process's file descriptors and pooled
/// buffers and listen to process-wide instruments, so they run alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityDefinition
{
    public const string Name = "Reliability";
}

/// <summary>
/// Quick or long runs of the same tests: <c>ASYNCSTREAMS_SOAK=1</c> makes them run for minutes (more connections'
/// rounds, larger payloads, longer bounds); by default they stay quick enough for every <c>dotnet test</c>.
/// </summary>
internal static class Soak
{
    /// <summary>Gets whether the long versions run.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("ASYNCSTREAMS_SOAK") == "1";

    /// <summary>Picks the quick or the long value.</summary>
    public static T Pick<T>(T quick, T soak) => Enabled ? soak : quick;

    /// <summary>A token canceled when the test ends, or after <paramref name="quickSeconds"/> (<paramref name="soakSeconds"/> in soak runs).</summary>
    public static CancellationTokenSource Bound(int quickSeconds, int soakSeconds = 1800)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(Pick(quickSeconds, soakSeconds)));
        return cts;
    }
}

/// <summary>The process's file descriptors: how many are open, and the RLIMIT_NOFILE limits.</summary>
internal static partial class FileDescriptors
{
    private const int RlimitNofile = 7; // Linux, every architecture .NET runs on.

    /// <summary>Gets whether /proc/self/fd can be counted (Linux).</summary>
    public static bool CanCount => Directory.Exists("/proc/self/fd");

    /// <summary>
    /// Counts the open descriptors, leaving out the files of loaded assemblies and native libraries: the runtime maps
    /// those when code first needs them and keeps them for the life of the process, which is not a leak.
    /// </summary>
    public static int Count() => Targets().Values.Count(target => !IsLoadedModule(target));

    /// <summary>Says whether a descriptor's target is an assembly, its symbols (read for stack traces) or a native library.</summary>
    public static bool IsLoadedModule(string target) =>
        target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal)
        || target.EndsWith(".so", StringComparison.Ordinal) || target.Contains(".so.", StringComparison.Ordinal);

    /// <summary>Lists the open descriptors and what each refers to (socket:[inode], a path, anon_inode:[eventpoll]...).</summary>
    public static Dictionary<string, string> Targets()
    {
        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                targets[Path.GetFileName(entry)] = new FileInfo(entry).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                // Closed between the listing and the read (the listing's own descriptor, for one).
            }
        }

        return targets;
    }

    /// <summary>Reads the soft and hard RLIMIT_NOFILE, or null where it cannot be read.</summary>
    public static (ulong Soft, ulong Hard)? GetLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return NativeMethods.getrlimit(RlimitNofile, out var limit) == 0 ? (limit.Current, limit.Maximum) : null;
    }

    /// <summary>Sets the soft RLIMIT_NOFILE; returns false where that is not allowed.</summary>
    public static bool TrySetSoftLimit(ulong soft)
    {
        if (GetLimit() is not { } limit || soft > limit.Hard)
        {
            return false;
        }

        var value = new NativeMethods.RLimit { Current = soft, Maximum = limit.Hard };
        return NativeMethods.setrlimit(RlimitNofile, in value) == 0;
    }

    /// <summary>
    /// Makes sure at least <paramref name="needed"/> descriptors may be open, raising the soft limit up to the hard
    /// one if needed. Returns null when that is possible, else the reason it is not.
    /// </summary>
    public static string? EnsureAtLeast(int needed)
    {
        if (GetLimit() is not { } limit)
        {
            return "RLIMIT_NOFILE cannot be read on this operating system";
        }

        if (limit.Soft >= (ulong)needed)
        {
            return null;
        }

        if (limit.Hard < (ulong)needed)
        {
            return $"the hard RLIMIT_NOFILE is {limit.Hard}, below the {needed} descriptors this test needs";
        }

        return TrySetSoftLimit((ulong)needed)
            ? null
            : $"setrlimit(RLIMIT_NOFILE, {needed}) failed with errno {Marshal.GetLastPInvokeError()}";
    }

    /// <summary>Opens /dev/null until the process runs out of descriptors; returns them (at most <paramref name="max"/>).</summary>
    public static List<int> FillUntilExhausted(int max)
    {
        var devNull = "/dev/null\0"u8.ToArray();
        var opened = new List<int>();
        while (opened.Count < max)
        {
            var fd = NativeMethods.open(devNull, 0);
            if (fd < 0)
            {
                break;
            }

            opened.Add(fd);
        }

        return opened;
    }

    /// <summary>Closes descriptors opened by <see cref="FillUntilExhausted"/>.</summary>
    public static void Close(List<int> descriptors)
    {
        foreach (var fd in descriptors)
        {
            _ = NativeMethods.close(fd);
        }

        descriptors.Clear();
    }

    private static class NativeMethods
    {
        [StructLayout(LayoutKind.Sequential)]
        public struct RLimit
        {
            public ulong Current;
            public ulong Maximum;
        }

        [DllImport("libc", SetLastError = true)]
        public static extern int getrlimit(int resource, out RLimit limit);

        [DllImport("libc", SetLastError = true)]
        public static extern int setrlimit(int resource, in RLimit limit);

        [DllImport("libc", SetLastError = true)]
        public static extern int open(byte[] path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}

/// <summary>Raw-socket peers for the fault tests: clients this project did not write, that misbehave on purpose.</summary>
internal static class RawPeer
{
    /// <summary>Connects a plain socket to the server's first loopback end point.</summary>
    public static Task<Socket> ConnectAsync(StreamServer server, CancellationToken cancellationToken) =>
        ServerTestKit.ConnectAsync(ServerTestKit.Loopback(server), cancellationToken);

    /// <summary>Resets the connection: SO_LINGER 0, then close, so the peer gets RST instead of FIN.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }

    /// <summary>Makes the socket's kernel buffers small, so that a peer that does not read is felt at once.</summary>
    public static void ShrinkBuffers(Socket socket)
    {
        socket.ReceiveBufferSize = 4096;
        socket.SendBufferSize = 4096;
    }

    /// <summary>Returns the loopback end point of <paramref name="server"/>.</summary>
    public static IPEndPoint EndPoint(StreamServer server) => ServerTestKit.Loopback(server);

    /// <summary>
    /// A callback that runs <paramref name="fault"/> for connections whose first line is <c>fault</c>, and echoes lines
    /// for those whose first line is <c>echo</c>, so that one server shows both the fault and that others are still served.
    /// </summary>
    public static Func<StreamReader, StreamWriter, Task> FaultOrEcho(Func<StreamReader, StreamWriter, Task> fault) =>
        async (reader, writer) =>
        {
            var first = await reader.ReadLineAsync();
            if (first.AsSpan().SequenceEqual("echo\n"u8))
            {
                await ServerTestKit.EchoLinesAsync(reader, writer);
            }
            else if (first.AsSpan().SequenceEqual("fault\n"u8))
            {
                await fault(reader, writer);
            }
        };

    /// <summary>Sends <c>fault</c>, the line that selects the scenario of <see cref="FaultOrEcho"/>.</summary>
    public static Task SendFaultLineAsync(Socket socket, CancellationToken cancellationToken) =>
        ServerTestKit.SendAsync(socket, "fault\n", cancellationToken);

    /// <summary>Asserts that a well-behaved client still gets its lines echoed by a <see cref="FaultOrEcho"/> server.</summary>
    public static async Task AssertServesAsync(StreamServer server, CancellationToken cancellationToken)
    {
        var (reader, writer) = await Streams.OpenConnectionAsync("127.0.0.1", ServerTestKit.Port(server), cancellationToken: cancellationToken);
        await using (writer)
        {
            writer.Write("echo\nstill served\n"u8);
            Assert.Equal("still served\n"u8.ToArray(), await reader.ReadLineAsync(cancellationToken));
        }
    }
}
