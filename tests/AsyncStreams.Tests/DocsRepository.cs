using System.Text.RegularExpressions;

namespace AsyncStreams.Tests;

/// <summary>Finds the repository's docs/ folder from the test output and reads its Markdown pages.</summary>
internal static partial class DocsRepository
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AsyncStreams.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"No AsyncStreams.sln above {AppContext.BaseDirectory}: the docs tests run from a build inside the repository.");
    });

    /// <summary>Gets the repository root (the folder of AsyncStreams.sln).</summary>
    public static string Root => RootPath.Value;

    /// <summary>Gets the docs/ folder.</summary>
    public static string Docs => Path.Combine(Root, "docs");

    /// <summary>Gets the file names of the guide pages: every page of docs/ except the generated API reference.</summary>
    public static IReadOnlyList<string> GuidePages =>
        [.. Directory.GetFiles(Docs, "*.md").Select(Path.GetFileName).OfType<string>().Where(n => n != "api.md").Order(StringComparer.Ordinal)];

    /// <summary>Reads a page of docs/ with LF line endings.</summary>
    public static string Read(string page) => File.ReadAllText(Path.Combine(Docs, page)).ReplaceLineEndings("\n");

    /// <summary>Returns the fenced code blocks of a page whose info string is <paramref name="language"/>, with the line each starts on.</summary>
    public static IReadOnlyList<(int Line, string Code)> CodeBlocks(string markdown, string language)
    {
        var blocks = new List<(int, string)>();
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = FenceOpen().Match(lines[i]);
            if (!fence.Success)
                continue;
            var start = i;
            var body = new List<string>();
            for (i++; i < lines.Length && !lines[i].TrimStart().StartsWith(fence.Groups[1].Value, StringComparison.Ordinal); i++)
                body.Add(lines[i]);
            if (fence.Groups[2].Value == language)
                blocks.Add((start + 1, string.Join('\n', body)));
        }

        return blocks;
    }

    /// <summary>Returns the page's text with fenced code blocks and inline code removed (links inside code are not links).</summary>
    public static string ProseOf(string markdown)
    {
        var prose = new List<string>();
        var inCode = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (FenceOpen().IsMatch(line))
            {
                inCode = !inCode;
                continue;
            }

            if (!inCode)
                prose.Add(InlineCode().Replace(line, ""));
        }

        return string.Join('\n', prose);
    }

    /// <summary>Returns the anchors GitHub generates for the headings of a page (lower case, punctuation dropped, -N for repeats).</summary>
    public static IReadOnlySet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var inCode = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (FenceOpen().IsMatch(line))
                inCode = !inCode;
            var heading = Heading().Match(line);
            if (inCode || !heading.Success)
                continue;
            var text = heading.Groups[1].Value.Replace("`", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
            var slug = new string(text.Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-');
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    [GeneratedRegex(@"^\s*(```+|~~~+)\s*([\w#+-]*)")]
    private static partial Regex FenceOpen();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^#{1,6}\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();
}
