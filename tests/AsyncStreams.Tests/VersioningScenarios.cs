namespace AsyncStreams.Tests;

/// <summary>
/// One row of the versioning table: how to build the repository, the MinVer properties to pass, and what the
/// MinVer target must compute (a version, or the code of the warning or error it must report).
/// </summary>
internal sealed record VersioningScenario(
    string Name,
    Action<GitRepository>? Arrange,
    string? ExpectedVersion,
    IReadOnlyDictionary<string, string>? Properties = null,
    string? ExpectedWarning = null,
    string? ExpectedError = null)
{
    /// <summary>Gets whether the scenario runs in a plain directory instead of a git work tree.</summary>
    public bool OutsideGit { get; init; }
}

internal static class VersioningScenarios
{
    public static IReadOnlyList<VersioningScenario> All { get; } =
    [
        new("tag on HEAD", r => { r.Commit(); r.Tag("v1.2.3"); }, "1.2.3"),
        new("RTM tag, one commit later", r => { r.Commit(); r.Tag("v1.2.3"); r.Commit(); }, "1.2.4-alpha.0.1"),
        new("RTM tag, three commits later", r => { r.Commit(); r.Tag("v1.2.3"); r.Commits(3); }, "1.2.4-alpha.0.3"),
        new("pre-release tag on HEAD", r => { r.Commit(); r.Tag("v2.0.0-rc.1"); }, "2.0.0-rc.1"),
        new("pre-release tag, two commits later", r => { r.Commit(); r.Tag("v2.0.0-rc.1"); r.Commits(2); }, "2.0.0-rc.1.2"),
        new("no commits", _ => { }, "0.0.0-alpha.0"),
        new("no tags, one commit", r => r.Commit(), "0.0.0-alpha.0"),
        new("no tags, three commits", r => r.Commits(3), "0.0.0-alpha.0.2"),
        new("custom prefix", r => { r.Commit(); r.Tag("ver1.0.0"); r.Commit(); r.Tag("v9.0.0"); r.Commit(); }, "1.0.1-alpha.0.2",
            Props(("MinVerTagPrefix", "ver"))),
        new("empty prefix", r => { r.Commit(); r.Tag("1.5.0"); }, "1.5.0", Props(("MinVerTagPrefix", ""))),
        new("tag without the prefix ignored", r => { r.Commit(); r.Tag("v1.0.0"); r.Commit(); r.Tag("1.5.0"); }, "1.0.1-alpha.0.1"),
        new("invalid tags ignored", r =>
        {
            r.Commit();
            r.Tag("v1.0.0");
            r.Commit();
            foreach (string tag in new[]
                     {
                         "v1.2", "v01.2.3", "v1.02.3", "v1.2.03", "v1.2.3-01", "v1.2.3-", "v1.2.3+", "v1.2.3-rc.+x", "v1.2.3.4",
                         "vnext", "v1.2.3-alpha_1", "V1.2.3", "v99999999999.0.0", "v1.2.3+meta_data", "v-1.2.3",
                     })
            {
                r.Tag(tag);
            }
        }, "1.0.1-alpha.0.1"),
        new("annotated tag on HEAD", r => { r.Commit(); r.AnnotatedTag("v3.1.0"); }, "3.1.0"),
        new("annotated tag, one commit later", r => { r.Commit(); r.AnnotatedTag("v3.1.0"); r.Commit(); }, "3.1.1-alpha.0.1"),
        new("two tags on one commit, pre-release of a later version wins", r => { r.Commit(); r.Tag("v1.0.0"); r.Tag("v1.1.0-beta.1"); },
            "1.1.0-beta.1"),
        new("two tags on one commit, RTM beats its own pre-release", r => { r.Commit(); r.Tag("v1.0.0"); r.Tag("v1.0.0-rc.1"); r.Commit(); },
            "1.0.1-alpha.0.1"),
        new("two tags on one commit, numeric identifiers compare as numbers", r => { r.Commit(); r.Tag("v1.0.0-alpha.9"); r.Tag("v1.0.0-alpha.10"); r.Commit(); },
            "1.0.0-alpha.10.1"),
        new("two tags on one commit, alphanumeric identifier beats numeric", r => { r.Commit(); r.Tag("v1.0.0-alpha.beta"); r.Tag("v1.0.0-alpha.1"); },
            "1.0.0-alpha.beta"),
        new("two tags on one commit, more identifiers win", r => { r.Commit(); r.Tag("v1.0.0-alpha"); r.Tag("v1.0.0-alpha.1"); },
            "1.0.0-alpha.1"),
        new("nearest tag wins over a higher one further back", r => { r.Commit(); r.Tag("v5.0.0"); r.Commit(); r.Tag("v1.0.0"); r.Commit(); },
            "1.0.1-alpha.0.1"),
        new("merge, highest version across both parents", r =>
        {
            string root = r.Commit();
            r.Commit();
            r.Tag("v1.0.0");
            r.Branch("feature", root);
            r.Commit();
            r.Tag("v1.5.0");
            r.Checkout("main");
            r.Merge("feature");
        }, "1.5.1-alpha.0.1"),
        new("merge, height along the first parent first", r =>
        {
            string root = r.Commit();
            r.Tag("v1.0.0");
            r.Commits(3);
            r.Branch("feature", root);
            r.Commit();
            r.Checkout("main");
            r.Merge("feature");
        }, "1.0.1-alpha.0.4"),
        new("merge, tag only on the second parent", r =>
        {
            string root = r.Commit();
            r.Branch("feature", root);
            r.Commit();
            r.Tag("v2.0.0");
            r.Checkout("main");
            r.Commit();
            r.Merge("feature");
        }, "2.0.1-alpha.0.1"),
        new("minimum major.minor above the tag", r => { r.Commit(); r.Tag("v1.2.3"); r.Commit(); }, "2.0.0-alpha.0.1",
            Props(("MinVerMinimumMajorMinor", "2.0"))),
        new("minimum major.minor without tags", r => r.Commit(), "1.0.0-alpha.0", Props(("MinVerMinimumMajorMinor", "1.0"))),
        new("minimum major.minor already met", r => { r.Commit(); r.Tag("v2.1.0"); }, "2.1.0", Props(("MinVerMinimumMajorMinor", "2.1"))),
        new("auto-increment minor", r => { r.Commit(); r.Tag("v1.2.3"); r.Commit(); }, "1.3.0-alpha.0.1", Props(("MinVerAutoIncrement", "minor"))),
        new("auto-increment major", r => { r.Commit(); r.Tag("v1.2.3"); r.Commit(); }, "2.0.0-alpha.0.1", Props(("MinVerAutoIncrement", "major"))),
        new("auto-increment leaves a pre-release alone", r => { r.Commit(); r.Tag("v1.2.3-rc.1"); r.Commit(); }, "1.2.3-rc.1.1",
            Props(("MinVerAutoIncrement", "major"))),
        new("default pre-release identifiers", r => { r.Commit(); r.Tag("v1.2.3"); r.Commit(); }, "1.2.4-preview.0.1",
            Props(("MinVerDefaultPreReleaseIdentifiers", "preview.0"))),
        new("build metadata on a tagged commit", r => { r.Commit(); r.Tag("v1.2.3"); }, "1.2.3+build.42", Props(("MinVerBuildMetadata", "build.42"))),
        new("build metadata with height", r => { r.Commit(); r.Tag("v1.2.3"); r.Commit(); }, "1.2.4-alpha.0.1+build.42",
            Props(("MinVerBuildMetadata", "build.42"))),
        new("tag metadata joined with build metadata", r => { r.Commit(); r.Tag("v1.2.3+sha.abc"); }, "1.2.3+sha.abc.build.42",
            Props(("MinVerBuildMetadata", "build.42"))),
        new("tag metadata dropped with height", r => { r.Commit(); r.Tag("v1.2.3+sha.abc"); r.Commit(); }, "1.2.4-alpha.0.1"),
        new("ignore height", r => { r.Commit(); r.Tag("v1.2.3"); r.Commits(2); }, "1.2.3", Props(("MinVerIgnoreHeight", "true"))),
        new("override", r => { r.Commit(); r.Tag("v1.2.3"); }, "4.5.6-beta.7+ci.8", Props(("MinVerVersionOverride", "4.5.6-beta.7+ci.8"))),
        new("not a git work tree", null, "0.0.0-alpha.0", ExpectedWarning: "MINVER1001") { OutsideGit = true },
        new("skip", r => { r.Commit(); r.Tag("v1.2.3"); }, string.Empty, Props(("MinVerSkip", "true"))),
        new("invalid override", r => r.Commit(), null, Props(("MinVerVersionOverride", "1.2")), ExpectedError: "MINVER1005"),
        new("invalid auto-increment", r => r.Commit(), null, Props(("MinVerAutoIncrement", "build")), ExpectedError: "MINVER1003"),
        new("invalid minimum major.minor", r => r.Commit(), null, Props(("MinVerMinimumMajorMinor", "1")), ExpectedError: "MINVER1002"),
        new("invalid pre-release identifiers", r => r.Commit(), null, Props(("MinVerDefaultPreReleaseIdentifiers", "alpha..0")),
            ExpectedError: "MINVER1004"),
        new("invalid build metadata", r => r.Commit(), null, Props(("MinVerBuildMetadata", "a+b")), ExpectedError: "MINVER1006"),
    ];

    public static TheoryData<string> VersionNames { get; } =
        new(All.Where(s => s.ExpectedVersion is { Length: > 0 }).Select(s => s.Name));

    public static TheoryData<string> ErrorNames { get; } = new(All.Where(s => s.ExpectedError is not null).Select(s => s.Name));

    public static VersioningScenario Get(string name) => All.Single(s => s.Name == name);

    private static Dictionary<string, string> Props(params (string Name, string Value)[] properties) =>
        properties.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
}
