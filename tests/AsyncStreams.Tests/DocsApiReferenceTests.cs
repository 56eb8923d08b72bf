using System.Xml.Linq;
using ApiDocGen;

namespace AsyncStreams.Tests;

/// <summary>docs/api.md is generated from the built assembly and its XML docs, and must match them.</summary>
public class DocsApiReferenceTests
{
    [Fact]
    public void ApiMarkdown_RegeneratedFromBuiltAssembly_MatchesCommittedDocsApiMd()
    {
        var expected = Generate();
        var path = Path.Combine(DocsRepository.Docs, "api.md");
        var actual = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
        if (actual == expected)
            return;

        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var line = Enumerable.Range(0, Math.Max(expectedLines.Length, actualLines.Length))
            .First(i => expectedLines.ElementAtOrDefault(i) != actualLines.ElementAtOrDefault(i));
        Assert.Fail($"docs/api.md is out of date with the public API. Regenerate it from the repository root with:\n    {ApiMarkdown.RegenerateCommand}\n"
            + $"First difference at line {line + 1}:\n  generated: {expectedLines.ElementAtOrDefault(line)}\n  committed: {actualLines.ElementAtOrDefault(line)}");
    }

    [Fact]
    public void ApiMarkdown_EveryPublicMember_HasDocumentation()
    {
        // A member whose documentation ID the generator cannot find shows as undocumented: this catches
        // both missing XML docs and IDs computed differently from the compiler's.
        var undocumented = Generate().Split("\n#### ").Skip(1)
            .Where(section => section.Contains("*(No documentation.)*", StringComparison.Ordinal))
            .Select(section => section.Split('\n')[0])
            .ToList();

        Assert.True(undocumented.Count == 0, "Public members without XML documentation: " + string.Join(", ", undocumented));
    }

    [Fact]
    public void ApiMarkdown_Signatures_ShowNullabilityTupleNamesAndDefaults()
    {
        var markdown = Generate();

        Assert.Contains("public static Task<(StreamReader Reader, StreamWriter Writer)> OpenConnectionAsync(\n    string host,\n    int port,\n    bool ssl = false,\n    ConnectionOptions? options = null,\n    CancellationToken cancellationToken = default);", markdown, StringComparison.Ordinal);
        Assert.Contains("public const int DefaultLimit = 65536;", markdown, StringComparison.Ordinal);
        Assert.Contains("public TimeSpan? HappyEyeballsDelay { get; init; }", markdown, StringComparison.Ordinal);
        Assert.Contains("public sealed class IncompleteReadException : EndOfStreamException", markdown, StringComparison.Ordinal);
    }

    private static string Generate()
    {
        var assembly = typeof(Streams).Assembly;
        var xml = Path.ChangeExtension(assembly.Location, ".xml");
        Assert.True(File.Exists(xml), $"{xml} is missing: src/AsyncStreams must build its XML documentation file.");
        return ApiMarkdown.Generate(assembly, XDocument.Load(xml));
    }
}
