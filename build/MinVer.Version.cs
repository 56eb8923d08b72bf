// Computes the version for build/MinVer.targets from what ReadMinVerHistory found. MSBuild compiles this file with
// RoslynCodeTaskFactory, against netstandard, so it keeps to APIs and language features that need no newer runtime.
using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Applies MinVer's rules: the highest candidate version; after an RTM tag the next patch (or minor, or major)
/// with the default pre-release identifiers and the height; after a pre-release tag the height appended; then
/// build metadata and the minimum major.minor. A version override replaces all of it.
/// </summary>
public sealed class ComputeMinVerVersion : Task
{
    // MinVer's verbosity names, in increasing order of detail: error, warn, info, debug, trace.
    private static readonly string[][] VerbosityNames =
    {
        new[] { "q", "quiet", "e", "error" },
        new[] { "", "m", "minimal", "w", "warn" },
        new[] { "n", "normal", "i", "info" },
        new[] { "d", "detailed", "debug" },
        new[] { "diag", "diagnostic", "t", "trace" },
    };

    private const int LevelWarn = 1, LevelInfo = 2;

    private int _verbosity = LevelWarn;
    private Regex _grammar;

    // Inputs: what ReadMinVerHistory found, then the MinVer* properties.
    public ITaskItem[] Candidates { get; set; }
    [Required] public string HistoryState { get; set; }
    public string HistoryReason { get; set; }
    [Required] public string WorkingDirectory { get; set; }
    [Required] public string VersionPattern { get; set; }
    public string TagPrefix { get; set; }
    public string AutoIncrement { get; set; }
    public string DefaultPreReleaseIdentifiers { get; set; }
    public string MinimumMajorMinor { get; set; }
    public string BuildMetadata { get; set; }
    public bool IgnoreHeight { get; set; }
    public string VersionOverride { get; set; }
    public string Verbosity { get; set; }

    // Outputs: the full version and its parts.
    [Output] public string CalculatedVersion { get; private set; }
    [Output] public string Major { get; private set; }
    [Output] public string Minor { get; private set; }
    [Output] public string Patch { get; private set; }
    [Output] public string PreRelease { get; private set; }
    [Output] public string CalculatedBuildMetadata { get; private set; }

    public override bool Execute()
    {
        _grammar = new Regex(VersionPattern, RegexOptions.CultureInvariant);
        string verbosity = (Verbosity ?? string.Empty).Trim().ToLowerInvariant();
        _verbosity = Array.FindIndex(VerbosityNames, names => names.Contains(verbosity));
        if (_verbosity < 0)
        {
            _verbosity = LevelWarn;
            return Fail("MINVER1008", "invalid MinVerVerbosity '{0}'. Valid values are quiet, minimal, normal, detailed and diagnostic.", Verbosity);
        }

        SemanticVersion version;
        if (!string.IsNullOrEmpty(VersionOverride))
        {
            if (!SemanticVersion.TryParse(_grammar, VersionOverride, out version))
            {
                return Fail("MINVER1005", "MinVerVersionOverride '{0}' is not a valid SemVer 2.0 version.", VersionOverride);
            }

            Info("Using version override {0}.", version);
            SetOutputs(version);
            return true;
        }

        string autoIncrement = string.IsNullOrEmpty(AutoIncrement) ? "patch" : AutoIncrement.ToLowerInvariant();
        if (autoIncrement != "major" && autoIncrement != "minor" && autoIncrement != "patch")
        {
            return Fail("MINVER1003", "invalid MinVerAutoIncrement '{0}'. Valid values are major, minor and patch.", AutoIncrement);
        }

        SemanticVersion defaultVersion;
        string identifiers = string.IsNullOrEmpty(DefaultPreReleaseIdentifiers) ? "alpha.0" : DefaultPreReleaseIdentifiers;
        if (!SemanticVersion.TryParse(_grammar, "0.0.0-" + identifiers, out defaultVersion))
        {
            return Fail("MINVER1004", "invalid MinVerDefaultPreReleaseIdentifiers '{0}'. Use dot-separated SemVer 2.0 pre-release identifiers, such as alpha.0.", identifiers);
        }

        SemanticVersion minimum = null;
        if (!string.IsNullOrEmpty(MinimumMajorMinor) && !SemanticVersion.TryParse(_grammar, MinimumMajorMinor + ".0", out minimum))
        {
            return Fail("MINVER1002", "invalid MinVerMinimumMajorMinor '{0}'. Use MAJOR.MINOR, such as 1.0.", MinimumMajorMinor);
        }

        SemanticVersion metadataCheck;
        if (!string.IsNullOrEmpty(BuildMetadata) && !SemanticVersion.TryParse(_grammar, "0.0.0+" + BuildMetadata, out metadataCheck))
        {
            return Fail("MINVER1006", "invalid MinVerBuildMetadata '{0}'. Use dot-separated identifiers of [0-9A-Za-z-].", BuildMetadata);
        }

        int height = 0;
        version = defaultVersion;
        if (HistoryState == "not-a-work-tree" && _verbosity >= LevelWarn)
        {
            Log.LogWarning(null, "MINVER1001", null, null, 0, 0, 0, 0, "MinVer: '{0}' is not a valid Git working directory{1}. Using default version {2}.",
                WorkingDirectory, string.IsNullOrEmpty(HistoryReason) ? string.Empty : " (" + HistoryReason + ")", defaultVersion);
        }
        else if (HistoryState == "no-commits")
        {
            Info("No commits found. Using default version {0}.", defaultVersion);
        }
        else if (HistoryState == "history")
        {
            version = FromHistory(autoIncrement, defaultVersion, out height);
        }

        version = version.WithBuildMetadata(BuildMetadata);
        if (minimum != null && (version.Major < minimum.Major || (version.Major == minimum.Major && version.Minor < minimum.Minor)))
        {
            version = new SemanticVersion(minimum.Major, minimum.Minor, 0, WithHeight(defaultVersion.PreRelease, height), version.BuildMetadata);
            Info("Bumped the version to {0} to satisfy the minimum major.minor {1}.", version, MinimumMajorMinor);
        }

        Info("Calculated version {0}.", version);
        SetOutputs(version);
        return true;
    }

    private SemanticVersion FromHistory(string autoIncrement, SemanticVersion defaultVersion, out int height)
    {
        // The highest version wins; among equal versions, the one found first (the tags of one commit come in name order).
        ITaskItem selected = null;
        SemanticVersion tagged = null;
        string prefix = TagPrefix ?? string.Empty;
        foreach (ITaskItem candidate in Candidates ?? new ITaskItem[0])
        {
            string tag = candidate.GetMetadata("Tag");
            SemanticVersion version;
            if (tag.Length == 0 || !SemanticVersion.TryParse(_grammar, tag.Substring(prefix.Length), out version))
            {
                version = defaultVersion;
            }

            if (tagged == null || SemanticVersion.Compare(version, tagged) > 0)
            {
                selected = candidate;
                tagged = version;
            }
        }

        string commit = selected.GetMetadata("Commit");
        height = int.Parse(selected.GetMetadata("Height"), CultureInfo.InvariantCulture);
        if (selected.GetMetadata("Tag").Length == 0)
        {
            Info("No commit found with a valid SemVer 2.0 version{0}. Using default version {1}.",
                prefix.Length == 0 ? string.Empty : " prefixed with '" + prefix + "'", defaultVersion);
        }

        Info("Using {{ Commit: {0}, Tag: '{1}', Version: {2}, Height: {3} }}.",
            commit.Substring(0, Math.Min(7, commit.Length)), selected.GetMetadata("Tag"), tagged, height);

        if (IgnoreHeight || height == 0)
        {
            height = 0;
            return tagged;
        }

        if (tagged.PreRelease.Length > 0)
        {
            // A pre-release keeps its own identifiers; the height is appended so that later commits sort higher.
            return new SemanticVersion(tagged.Major, tagged.Minor, tagged.Patch, WithHeight(tagged.PreRelease, height), null);
        }

        string[] next = WithHeight(defaultVersion.PreRelease, height);
        return autoIncrement == "major" ? new SemanticVersion(tagged.Major + 1, 0, 0, next, null)
            : autoIncrement == "minor" ? new SemanticVersion(tagged.Major, tagged.Minor + 1, 0, next, null)
            : new SemanticVersion(tagged.Major, tagged.Minor, tagged.Patch + 1, next, null);
    }

    private bool Fail(string code, string format, params object[] args)
    {
        Log.LogError(null, code, null, null, 0, 0, 0, 0, "MinVer: " + format, args);
        return false;
    }

    private void Info(string format, params object[] args)
    {
        // Shown from the normal verbosity up; otherwise kept in detailed MSBuild logs.
        MessageImportance importance = _verbosity >= LevelInfo ? MessageImportance.High : MessageImportance.Low;
        Log.LogMessage(importance, "MinVer: " + string.Format(CultureInfo.InvariantCulture, format, args));
    }

    private void SetOutputs(SemanticVersion version)
    {
        CalculatedVersion = version.ToString();
        Major = version.Major.ToString(CultureInfo.InvariantCulture);
        Minor = version.Minor.ToString(CultureInfo.InvariantCulture);
        Patch = version.Patch.ToString(CultureInfo.InvariantCulture);
        PreRelease = string.Join(".", version.PreRelease);
        CalculatedBuildMetadata = version.BuildMetadata ?? string.Empty;
    }

    private static string[] WithHeight(string[] identifiers, int height) =>
        height == 0 ? identifiers : identifiers.Concat(new[] { height.ToString(CultureInfo.InvariantCulture) }).ToArray();
}

/// <summary>A strictly parsed SemVer 2.0 version (https://semver.org) with SemVer precedence.</summary>
public sealed class SemanticVersion
{
    public SemanticVersion(int major, int minor, int patch, string[] preRelease, string buildMetadata)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        PreRelease = preRelease ?? new string[0];
        BuildMetadata = string.IsNullOrEmpty(buildMetadata) ? null : buildMetadata;
    }

    public int Major { get; }
    public int Minor { get; }
    public int Patch { get; }
    public string[] PreRelease { get; }
    public string BuildMetadata { get; }

    /// <summary>
    /// Parses a SemVer 2.0 version with the grammar of semver.org (given by MinVer.targets, so that both tasks read
    /// tags alike); numbers that do not fit in an <see cref="int"/> are not accepted.
    /// </summary>
    public static bool TryParse(Regex grammar, string text, out SemanticVersion version)
    {
        version = null;
        Match match = grammar.Match(text ?? string.Empty);
        int major, minor, patch;
        if (!match.Success
            || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out major)
            || !int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out minor)
            || !int.TryParse(match.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out patch))
        {
            return false;
        }

        string[] preRelease = match.Groups[4].Success ? match.Groups[4].Value.Split('.') : new string[0];
        version = new SemanticVersion(major, minor, patch, preRelease, match.Groups[5].Success ? match.Groups[5].Value : null);
        return true;
    }

    /// <summary>Compares by SemVer 2.0 precedence (section 11); build metadata does not count.</summary>
    public static int Compare(SemanticVersion x, SemanticVersion y)
    {
        int result = x.Major != y.Major ? x.Major.CompareTo(y.Major)
            : x.Minor != y.Minor ? x.Minor.CompareTo(y.Minor)
            : x.Patch.CompareTo(y.Patch);
        if (result != 0)
        {
            return result;
        }

        // A version without pre-release identifiers ranks above every pre-release of it.
        if (x.PreRelease.Length == 0 || y.PreRelease.Length == 0)
        {
            return y.PreRelease.Length.CompareTo(x.PreRelease.Length);
        }

        for (int i = 0; i < Math.Min(x.PreRelease.Length, y.PreRelease.Length); i++)
        {
            result = CompareIdentifiers(x.PreRelease[i], y.PreRelease[i]);
            if (result != 0)
            {
                return result;
            }
        }

        return x.PreRelease.Length.CompareTo(y.PreRelease.Length);
    }

    public SemanticVersion WithBuildMetadata(string buildMetadata) =>
        string.IsNullOrEmpty(buildMetadata) ? this
            : new SemanticVersion(Major, Minor, Patch, PreRelease, BuildMetadata == null ? buildMetadata : BuildMetadata + "." + buildMetadata);

    public override string ToString() =>
        string.Format(CultureInfo.InvariantCulture, "{0}.{1}.{2}", Major, Minor, Patch)
        + (PreRelease.Length > 0 ? "-" + string.Join(".", PreRelease) : string.Empty)
        + (BuildMetadata != null ? "+" + BuildMetadata : string.Empty);

    private static int CompareIdentifiers(string x, string y)
    {
        bool xNumeric = x.All(c => c >= '0' && c <= '9');
        bool yNumeric = y.All(c => c >= '0' && c <= '9');
        if (xNumeric && yNumeric)
        {
            // Numeric identifiers have no leading zeros, so the longer one is the larger, whatever its size.
            return x.Length != y.Length ? x.Length.CompareTo(y.Length) : Math.Sign(string.CompareOrdinal(x, y));
        }

        // Numeric identifiers rank below alphanumeric ones, which compare in ASCII order.
        return xNumeric != yNumeric ? (xNumeric ? -1 : 1) : Math.Sign(string.CompareOrdinal(x, y));
    }
}
