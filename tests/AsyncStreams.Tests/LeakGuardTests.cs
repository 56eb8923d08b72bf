using System.Net.Sockets;
using AsyncStreams.Internal;
using Xunit.Sdk;

namespace AsyncStreams.Tests;

/// <summary>The leak checks catch each kind of leak they claim to catch.</summary>
[Collection(ReliabilityDefinition.Name)]
public class LeakGuardTests
{
    private static readonly TimeSpan ShortSettle = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task AssertClean_DescriptorLeftOpen_Fails()
    {
        Assert.True(FileDescriptors.CanCount, "/proc/self/fd is missing on this Linux host.");
        var guard = await LeakGuard.StartAsync();
        using var leaked = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        var failure = await Assert.ThrowsAsync<TrueException>(() => guard.AssertCleanAsync(ShortSettle));
        Assert.Contains("file descriptors", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssertClean_PooledBufferNotReturned_Fails()
    {
        var guard = await LeakGuard.StartAsync();
        var rented = PooledBuffers.Rent(1024);
        try
        {
            var failure = await Assert.ThrowsAsync<TrueException>(() => guard.AssertCleanAsync(ShortSettle));
            Assert.Contains("Pooled buffers", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            PooledBuffers.Return(rented);
        }
    }

    [Fact]
    public async Task AssertClean_FaultedTaskNeverObserved_Fails()
    {
        var guard = await LeakGuard.StartAsync();
        DropFaultedTask();

        var failure = await Assert.ThrowsAsync<TrueException>(() => guard.AssertCleanAsync(ShortSettle));
        Assert.Contains("Unobserved task exceptions", failure.Message, StringComparison.Ordinal);
        Assert.Contains("dropped on purpose", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssertClean_NothingLeaked_Passes()
    {
        var guard = await LeakGuard.StartAsync();
        using (new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            PooledBuffers.Return(PooledBuffers.Rent(1024));
        }

        await guard.AssertCleanAsync(ShortSettle);
    }

    // Not inlined, so that no reference to the task survives in the caller's frame when the GC runs. Checking
    // IsCompleted does not observe the exception; only Wait, Result, Exception or an await would.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void DropFaultedTask()
    {
        var task = Task.Run(new Action(Throw), TestContext.Current.CancellationToken);
        Assert.True(SpinWait.SpinUntil(() => task.IsCompleted, TimeSpan.FromSeconds(10)));

        static void Throw() => throw new InvalidOperationException("dropped on purpose");
    }
}
