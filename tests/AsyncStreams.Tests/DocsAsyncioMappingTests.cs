using System.Text.RegularExpressions;

namespace AsyncStreams.Tests;

/// <summary>docs/asyncio-mapping.md names every public name of the installed Python's asyncio streams API.</summary>
public partial class DocsAsyncioMappingTests
{
    // Lists the public names of asyncio's streams API as the installed Python defines them: the module's
    // functions and classes, the methods and properties of StreamReader, StreamWriter and Server, the
    // exceptions, and the keyword arguments open_connection and start_server pass on to the event loop.
    private const string ListNames = """
        import asyncio, asyncio.streams, inspect

        names = set(asyncio.streams.__all__) | {'IncompleteReadError', 'LimitOverrunError'}
        for cls in (asyncio.StreamReader, asyncio.StreamWriter, asyncio.Server):
            names |= {n for n in vars(cls) if not n.startswith('_')}
        loop = asyncio.new_event_loop()
        for f in (asyncio.open_connection, asyncio.start_server, asyncio.open_unix_connection, asyncio.start_unix_server,
                  loop.create_connection, loop.create_server, loop.create_unix_connection, loop.create_unix_server):
            names |= {p for p in inspect.signature(f).parameters if p not in ('kwds', 'protocol_factory', 'client_connected_cb')}
        loop.close()
        names |= {e.__name__ for e in (asyncio.IncompleteReadError, asyncio.LimitOverrunError)}
        names |= {'partial', 'expected', 'consumed'}
        for n in sorted(names):
            print(n)
        """;

    [Fact]
    public async Task AsyncioMapping_EveryAsyncioStreamsName_AppearsAsCode()
    {
        using var timeout = SamplePeers.Timeout();
        await using var python = SamplePeers.StartPython(ListNames);
        await python.AssertExitCodeAsync(0, timeout.Token);
        var names = python.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(names);

        var page = DocsRepository.Read("asyncio-mapping.md");
        var missing = names.Where(n => !MentionedAsCode(page, n)).ToList();

        Assert.True(missing.Count == 0, "asyncio names missing from docs/asyncio-mapping.md: " + string.Join(", ", missing));
    }

    [Theory]
    [InlineData("peername")]
    [InlineData("sockname")]
    [InlineData("socket")]
    [InlineData("ssl_object")]
    [InlineData("peercert")]
    [InlineData("cipher")]
    [InlineData("compression")]
    [InlineData("sslcontext")]
    public void AsyncioMapping_GetExtraInfoKey_IsListed(string key)
    {
        // The get_extra_info keys asyncio's socket and TLS transports answer.
        Assert.Contains($"`\"{key}\"`", DocsRepository.Read("asyncio-mapping.md"), StringComparison.Ordinal);
    }

    // As code: the name is a whole identifier inside an inline code span, such as `name`, `reader.name()` or `name=...`.
    private static bool MentionedAsCode(string page, string name) =>
        CodeSpan().Matches(page).Any(span => Regex.IsMatch(span.Value, @"(?<!\w)" + Regex.Escape(name) + @"(?!\w)"));

    [GeneratedRegex("`[^`\n]+`")]
    private static partial Regex CodeSpan();
}
