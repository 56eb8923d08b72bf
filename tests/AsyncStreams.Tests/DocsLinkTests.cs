using System.Text.RegularExpressions;

namespace AsyncStreams.Tests;

/// <summary>Every relative link of docs/ leads to a file of the repository, and every #anchor to a heading.</summary>
public partial class DocsLinkTests
{
    public static TheoryData<string> Pages => [.. Directory.GetFiles(DocsRepository.Docs, "*.md").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Pages))]
    public void RelativeLinks_InDocsPage_ResolveToFilesAndHeadings(string page)
    {
        var markdown = DocsRepository.Read(page);
        var broken = new List<string>();
        foreach (Match link in Link().Matches(DocsRepository.ProseOf(markdown)))
        {
            var target = link.Groups[1].Value;
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                continue;

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var file = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var path = file.Length == 0 ? Path.Combine(DocsRepository.Docs, page) : Path.GetFullPath(Path.Combine(DocsRepository.Docs, file));
            if (!File.Exists(path) && !Directory.Exists(path))
                broken.Add($"{target} (no such file)");
            else if (anchor is not null && path.EndsWith(".md", StringComparison.Ordinal)
                && !DocsRepository.Anchors(File.ReadAllText(path).ReplaceLineEndings("\n")).Contains(anchor))
                broken.Add($"{target} (no heading with that anchor)");
        }

        Assert.True(broken.Count == 0, $"Broken links in docs/{page}: " + string.Join("; ", broken));
    }

    [Fact]
    public void GuidePages_Index_LinksEveryOtherPage()
    {
        var index = DocsRepository.Read("index.md");
        var missing = Directory.GetFiles(DocsRepository.Docs, "*.md").Select(Path.GetFileName).OfType<string>()
            .Where(p => p != "index.md" && !index.Contains($"]({p}", StringComparison.Ordinal))
            .ToList();

        Assert.True(missing.Count == 0, "docs/index.md does not link to: " + string.Join(", ", missing));
    }

    [GeneratedRegex(@"\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();
}
