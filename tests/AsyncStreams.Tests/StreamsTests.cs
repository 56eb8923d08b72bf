namespace AsyncStreams.Tests;

public class StreamsTests
{
    [Fact]
    public void DefaultLimit_IsAsyncioLimit_Is65536() => Assert.Equal(65536, Streams.DefaultLimit);

    [Fact]
    public void ConnectionOptions_Defaults_MatchAsyncio()
    {
        var o = new ConnectionOptions();
        Assert.Equal(Streams.DefaultLimit, o.Limit);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.HappyEyeballsDelay);
        Assert.Equal(TimeSpan.FromSeconds(60), o.SslHandshakeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), o.SslShutdownTimeout);
        Assert.Equal(64 * 1024, o.WriteHighWaterMark);
        Assert.Equal(16 * 1024, o.WriteLowWaterMark);
        Assert.True(o.NoDelay);
    }

    [Fact]
    public void StreamServerOptions_Defaults_MatchAsyncio()
    {
        var o = new StreamServerOptions();
        Assert.Equal(Streams.DefaultLimit, o.Limit);
        Assert.Equal(100, o.Backlog);
        Assert.True(o.ReuseAddress);
        Assert.False(o.ReusePort);
        Assert.True(o.StartServing);
        Assert.Null(o.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(30), o.SslShutdownTimeout);
    }
}
