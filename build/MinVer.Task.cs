// The task behind build/MinVer.targets. MSBuild compiles this file with RoslynCodeTaskFactory, against
// netstandard, so it keeps to APIs and language features that need no newer runtime support.
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Computes a SemVer 2.0 version from the git history the way MinVer does: the nearest version tags on the
/// history walked first-parent first from HEAD, the highest of them, and the height (commits since that tag).
/// </summary>
public sealed class ComputeMinVerVersion : Task
{
    private const int LevelError = 0;
    private const int LevelWarn = 1;
    private const int LevelInfo = 2;
    private const int LevelDebug = 3;
    private const int LevelTrace = 4;

    private int _level = LevelWarn;

    [Required]
    public string WorkingDirectory { get; set; }

    public string TagPrefix { get; set; }

    public string AutoIncrement { get; set; }

    public string DefaultPreReleaseIdentifiers { get; set; }

    public string MinimumMajorMinor { get; set; }

    public string BuildMetadata { get; set; }

    public bool IgnoreHeight { get; set; }

    public string VersionOverride { get; set; }

    public string Verbosity { get; set; }

    [Output]
    public string CalculatedVersion { get; private set; }

    [Output]
    public string Major { get; private set; }

    [Output]
    public string Minor { get; private set; }

    [Output]
    public string Patch { get; private set; }

    [Output]
    public string PreRelease { get; private set; }

    [Output]
    public string CalculatedBuildMetadata { get; private set; }

    public override bool Execute()
    {
        if (!TryParseVerbosity(Verbosity, out _level))
        {
            Log.LogError(null, "MINVER1008", null, null, 0, 0, 0, 0,
                "MinVer: invalid MinVerVerbosity '{0}'. Valid values are quiet, minimal, normal, detailed, diagnostic (or error, warn, info, debug, trace).", Verbosity);
            return false;
        }

        if (!string.IsNullOrEmpty(VersionOverride))
        {
            SemanticVersion overridden;
            if (!SemanticVersion.TryParse(VersionOverride, out overridden))
            {
                Log.LogError(null, "MINVER1005", null, null, 0, 0, 0, 0,
                    "MinVer: MinVerVersionOverride '{0}' is not a valid SemVer 2.0 version.", VersionOverride);
                return false;
            }

            Info("Using version override {0}.", overridden);
            SetOutputs(overridden);
            return true;
        }

        string autoIncrement = string.IsNullOrEmpty(AutoIncrement) ? "patch" : AutoIncrement.ToLowerInvariant();
        if (autoIncrement != "major" && autoIncrement != "minor" && autoIncrement != "patch")
        {
            Log.LogError(null, "MINVER1003", null, null, 0, 0, 0, 0,
                "MinVer: invalid MinVerAutoIncrement '{0}'. Valid values are major, minor and patch.", AutoIncrement);
            return false;
        }

        string defaultIdentifiersText = string.IsNullOrEmpty(DefaultPreReleaseIdentifiers) ? "alpha.0" : DefaultPreReleaseIdentifiers;
        string[] defaultIdentifiers;
        if (!SemanticVersion.TryParsePreRelease(defaultIdentifiersText, out defaultIdentifiers))
        {
            Log.LogError(null, "MINVER1004", null, null, 0, 0, 0, 0,
                "MinVer: invalid MinVerDefaultPreReleaseIdentifiers '{0}'. Use dot-separated SemVer 2.0 pre-release identifiers, for example alpha.0.", DefaultPreReleaseIdentifiers);
            return false;
        }

        int minimumMajor = 0;
        int minimumMinor = 0;
        bool hasMinimum = !string.IsNullOrEmpty(MinimumMajorMinor);
        if (hasMinimum && !TryParseMajorMinor(MinimumMajorMinor, out minimumMajor, out minimumMinor))
        {
            Log.LogError(null, "MINVER1002", null, null, 0, 0, 0, 0,
                "MinVer: invalid MinVerMinimumMajorMinor '{0}'. Use MAJOR.MINOR, for example 1.0.", MinimumMajorMinor);
            return false;
        }

        if (!string.IsNullOrEmpty(BuildMetadata) && !SemanticVersion.IsValidBuildMetadata(BuildMetadata))
        {
            Log.LogError(null, "MINVER1006", null, null, 0, 0, 0, 0,
                "MinVer: invalid MinVerBuildMetadata '{0}'. Use dot-separated identifiers of [0-9A-Za-z-].", BuildMetadata);
            return false;
        }

        SemanticVersion version;
        int height;
        if (!TryComputeFromGit(autoIncrement, defaultIdentifiers, out version, out height))
        {
            return false;
        }

        version = version.WithBuildMetadata(BuildMetadata);

        if (hasMinimum && (version.Major < minimumMajor || (version.Major == minimumMajor && version.Minor < minimumMinor)))
        {
            SemanticVersion bumped = SemanticVersion.FromParts(minimumMajor, minimumMinor, 0,
                WithHeight(defaultIdentifiers, height), version.BuildMetadata);
            Info("Bumping version to {0} to satisfy minimum major minor {1}.{2}.", bumped, minimumMajor, minimumMinor);
            version = bumped;
        }

        Info("Calculated version {0}.", version);
        SetOutputs(version);
        return true;
    }

    private bool TryComputeFromGit(string autoIncrement, string[] defaultIdentifiers, out SemanticVersion version, out int height)
    {
        SemanticVersion defaultVersion = SemanticVersion.FromParts(0, 0, 0, defaultIdentifiers, null);
        version = defaultVersion;
        height = 0;

        GitResult workTree = RunGit("rev-parse --is-inside-work-tree");
        if (workTree.ExitCode != 0 || workTree.Output.Trim() != "true")
        {
            if (_level >= LevelWarn)
            {
                string reason = FirstLine(workTree.Error);
                Log.LogWarning(null, "MINVER1001", null, null, 0, 0, 0, 0,
                    "MinVer: '{0}' is not a valid Git working directory{1}. Using default version {2}.",
                    WorkingDirectory, reason.Length == 0 ? string.Empty : " (" + reason + ")", defaultVersion);
            }

            return true;
        }

        GitResult head = RunGit("rev-parse --verify --quiet HEAD");
        if (head.ExitCode != 0)
        {
            Info("No commits found. Using default version {0}.", defaultVersion);
            return true;
        }

        // show-ref exits with 1 when the repository has no tags at all.
        GitResult tagRefs = RunGit("show-ref --tags --dereference");
        if (tagRefs.ExitCode != 0 && tagRefs.ExitCode != 1)
        {
            return GitFailed("show-ref --tags --dereference", tagRefs);
        }

        GitResult history = RunGit("rev-list --parents HEAD");
        if (history.ExitCode != 0)
        {
            return GitFailed("rev-list --parents HEAD", history);
        }

        Dictionary<string, List<Candidate>> tagsByCommit = ReadVersionTags(tagRefs.Output);
        Dictionary<string, string[]> parents = ReadParents(history.Output);
        Candidate selected = SelectCandidate(head.Output.Trim(), tagsByCommit, parents, defaultVersion);

        if (selected.Tag == null)
        {
            Info("No commit found with a valid SemVer 2.0 version{0}. Using default version {1}.",
                string.IsNullOrEmpty(TagPrefix) ? string.Empty : " prefixed with '" + TagPrefix + "'", defaultVersion);
        }

        Info("Using {{ Commit: {0}, Tag: '{1}', Version: {2}, Height: {3} }}.",
            selected.Commit.Substring(0, Math.Min(7, selected.Commit.Length)), selected.Tag ?? string.Empty, selected.Version, selected.Height);

        if (IgnoreHeight || selected.Height == 0)
        {
            if (IgnoreHeight && selected.Height > 0)
            {
                Debug("Ignoring height {0}.", selected.Height);
            }

            version = selected.Version;
            return true;
        }

        height = selected.Height;
        SemanticVersion tagged = selected.Version;
        if (tagged.PreRelease.Length > 0)
        {
            // A pre-release stays on its own identifiers; the height is appended so later commits sort higher.
            version = SemanticVersion.FromParts(tagged.Major, tagged.Minor, tagged.Patch, WithHeight(tagged.PreRelease, height), null);
        }
        else if (autoIncrement == "major")
        {
            version = SemanticVersion.FromParts(tagged.Major + 1, 0, 0, WithHeight(defaultIdentifiers, height), null);
        }
        else if (autoIncrement == "minor")
        {
            version = SemanticVersion.FromParts(tagged.Major, tagged.Minor + 1, 0, WithHeight(defaultIdentifiers, height), null);
        }
        else
        {
            version = SemanticVersion.FromParts(tagged.Major, tagged.Minor, tagged.Patch + 1, WithHeight(defaultIdentifiers, height), null);
        }

        return true;
    }

    private Dictionary<string, List<Candidate>> ReadVersionTags(string showRefOutput)
    {
        // Lines are "<sha> refs/tags/<name>", plus "<sha> refs/tags/<name>^{}" with the peeled commit of an annotated tag.
        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        const string refPrefix = "refs/tags/";
        const string peeledSuffix = "^{}";
        foreach (string line in SplitLines(showRefOutput))
        {
            int space = line.IndexOf(' ');
            if (space <= 0 || string.CompareOrdinal(line, space + 1, refPrefix, 0, refPrefix.Length) != 0)
            {
                continue;
            }

            string sha = line.Substring(0, space);
            string name = line.Substring(space + 1 + refPrefix.Length);
            if (name.EndsWith(peeledSuffix, StringComparison.Ordinal))
            {
                targets[name.Substring(0, name.Length - peeledSuffix.Length)] = sha;
            }
            else if (!targets.ContainsKey(name))
            {
                targets[name] = sha;
            }
        }

        string prefix = TagPrefix ?? string.Empty;
        var byCommit = new Dictionary<string, List<Candidate>>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> tag in targets)
        {
            SemanticVersion version;
            if (!tag.Key.StartsWith(prefix, StringComparison.Ordinal)
                || !SemanticVersion.TryParse(tag.Key.Substring(prefix.Length), out version))
            {
                Debug("Ignoring non-version tag {{ Name: {0}, Sha: {1} }}.", tag.Key, tag.Value);
                continue;
            }

            List<Candidate> list;
            if (!byCommit.TryGetValue(tag.Value, out list))
            {
                list = new List<Candidate>();
                byCommit.Add(tag.Value, list);
            }

            list.Add(new Candidate(tag.Value, 0, tag.Key, version));
        }

        // MinVer's order for tags on one commit: by precedence, then by name, so equal versions resolve the same way every time.
        foreach (List<Candidate> list in byCommit.Values)
        {
            list.Sort((a, b) =>
            {
                int byVersion = SemanticVersion.Compare(a.Version, b.Version);
                return byVersion != 0 ? byVersion : string.CompareOrdinal(a.Tag, b.Tag);
            });
        }

        return byCommit;
    }

    private static Dictionary<string, string[]> ReadParents(string revListOutput)
    {
        var parents = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string line in SplitLines(revListOutput))
        {
            string[] shas = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            if (shas.Length == 0)
            {
                continue;
            }

            var commitParents = new string[shas.Length - 1];
            Array.Copy(shas, 1, commitParents, 0, commitParents.Length);
            parents[shas[0]] = commitParents;
        }

        return parents;
    }

    private Candidate SelectCandidate(string head, Dictionary<string, List<Candidate>> tagsByCommit,
        Dictionary<string, string[]> parents, SemanticVersion defaultVersion)
    {
        // Depth-first from HEAD, first parent first. A path stops at the first commit with a version tag;
        // a commit reached a second time keeps the height of the path that reached it first.
        var candidates = new List<Candidate>();
        var checkedCommits = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<KeyValuePair<string, int>>();
        pending.Push(new KeyValuePair<string, int>(head, 0));

        while (pending.Count > 0)
        {
            KeyValuePair<string, int> item = pending.Pop();
            string commit = item.Key;
            int commitHeight = item.Value;
            if (!checkedCommits.Add(commit))
            {
                continue;
            }

            List<Candidate> tagged;
            if (tagsByCommit.TryGetValue(commit, out tagged))
            {
                foreach (Candidate tag in tagged)
                {
                    Trace("Found version tag {0} on {1} at height {2}.", tag.Tag, commit, commitHeight);
                    candidates.Add(new Candidate(commit, commitHeight, tag.Tag, tag.Version));
                }

                continue;
            }

            string[] commitParents;
            if (!parents.TryGetValue(commit, out commitParents) || commitParents.Length == 0)
            {
                // A root commit (or the edge of a shallow clone) without a version tag.
                candidates.Add(new Candidate(commit, commitHeight, null, defaultVersion));
                continue;
            }

            for (int i = commitParents.Length - 1; i >= 0; i--)
            {
                pending.Push(new KeyValuePair<string, int>(commitParents[i], commitHeight + 1));
            }
        }

        Debug("{0} commits checked.", checkedCommits.Count);

        // The highest version wins; among equal versions, the one found first.
        Candidate selected = candidates[0];
        for (int i = 1; i < candidates.Count; i++)
        {
            if (SemanticVersion.Compare(candidates[i].Version, selected.Version) > 0)
            {
                selected = candidates[i];
            }
        }

        return selected;
    }

    private bool GitFailed(string arguments, GitResult result)
    {
        Log.LogError(null, "MINVER1007", null, null, 0, 0, 0, 0,
            "MinVer: 'git {0}' failed in '{1}' with exit code {2}: {3}", arguments, WorkingDirectory, result.ExitCode, FirstLine(result.Error));
        return false;
    }

    private GitResult RunGit(string arguments)
    {
        var startInfo = new ProcessStartInfo("git", arguments)
        {
            WorkingDirectory = WorkingDirectory,
            UseShellExecute = false,
            CreateNoWindow = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };

        try
        {
            using (Process process = Process.Start(startInfo))
            {
                // Read both pipes at once so a full stderr pipe cannot stall git while stdout is drained.
                System.Threading.Tasks.Task<string> error = process.StandardError.ReadToEndAsync();
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                Trace("git {0} exited with {1}.", arguments, process.ExitCode);
                return new GitResult(process.ExitCode, output, error.Result);
            }
        }
        catch (Exception ex) when (ex is Win32Exception || ex is IOException || ex is InvalidOperationException)
        {
            return new GitResult(-1, string.Empty, "git could not be started: " + ex.Message);
        }
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

    private static string[] WithHeight(string[] identifiers, int height)
    {
        if (height == 0)
        {
            return identifiers;
        }

        var result = new string[identifiers.Length + 1];
        Array.Copy(identifiers, result, identifiers.Length);
        result[identifiers.Length] = height.ToString(CultureInfo.InvariantCulture);
        return result;
    }

    private static bool TryParseMajorMinor(string text, out int major, out int minor)
    {
        major = 0;
        minor = 0;
        string[] parts = text.Split('.');
        return parts.Length == 2
            && SemanticVersion.TryParseNumber(parts[0], out major)
            && SemanticVersion.TryParseNumber(parts[1], out minor);
    }

    private static bool TryParseVerbosity(string text, out int level)
    {
        switch ((text ?? string.Empty).Trim().ToLowerInvariant())
        {
            case "q":
            case "quiet":
            case "e":
            case "error":
                level = LevelError;
                return true;
            case "":
            case "m":
            case "minimal":
            case "w":
            case "warn":
                level = LevelWarn;
                return true;
            case "n":
            case "normal":
            case "i":
            case "info":
                level = LevelInfo;
                return true;
            case "d":
            case "detailed":
            case "debug":
                level = LevelDebug;
                return true;
            case "diag":
            case "diagnostic":
            case "t":
            case "trace":
                level = LevelTrace;
                return true;
            default:
                level = LevelWarn;
                return false;
        }
    }

    private void Info(string format, params object[] args) => Message(LevelInfo, format, args);

    private void Debug(string format, params object[] args) => Message(LevelDebug, format, args);

    private void Trace(string format, params object[] args) => Message(LevelTrace, format, args);

    private void Message(int level, string format, object[] args)
    {
        // Messages at or under the chosen verbosity are always shown; the rest stay in detailed MSBuild logs.
        MessageImportance importance = level <= _level ? MessageImportance.High : MessageImportance.Low;
        Log.LogMessage(importance, "MinVer: " + string.Format(CultureInfo.InvariantCulture, format, args));
    }

    private static IEnumerable<string> SplitLines(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            string trimmed = line.TrimEnd('\r');
            if (trimmed.Length > 0)
            {
                yield return trimmed;
            }
        }
    }

    private static string FirstLine(string text)
    {
        foreach (string line in SplitLines(text ?? string.Empty))
        {
            return line.Trim();
        }

        return string.Empty;
    }

    private sealed class GitResult
    {
        public GitResult(int exitCode, string output, string error)
        {
            ExitCode = exitCode;
            Output = output;
            Error = error;
        }

        public int ExitCode { get; }

        public string Output { get; }

        public string Error { get; }
    }

    private sealed class Candidate
    {
        public Candidate(string commit, int height, string tag, SemanticVersion version)
        {
            Commit = commit;
            Height = height;
            Tag = tag;
            Version = version;
        }

        public string Commit { get; }

        public int Height { get; }

        public string Tag { get; }

        public SemanticVersion Version { get; }
    }
}

/// <summary>A strictly parsed SemVer 2.0 version (https://semver.org) with SemVer precedence.</summary>
public sealed class SemanticVersion
{
    private SemanticVersion(int major, int minor, int patch, string[] preRelease, string buildMetadata)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        PreRelease = preRelease;
        BuildMetadata = string.IsNullOrEmpty(buildMetadata) ? null : buildMetadata;
    }

    public int Major { get; }

    public int Minor { get; }

    public int Patch { get; }

    public string[] PreRelease { get; }

    public string BuildMetadata { get; }

    public static SemanticVersion FromParts(int major, int minor, int patch, string[] preRelease, string buildMetadata) =>
        new SemanticVersion(major, minor, patch, preRelease ?? new string[0], buildMetadata);

    public SemanticVersion WithBuildMetadata(string buildMetadata)
    {
        if (string.IsNullOrEmpty(buildMetadata))
        {
            return this;
        }

        string combined = BuildMetadata == null ? buildMetadata : BuildMetadata + "." + buildMetadata;
        return new SemanticVersion(Major, Minor, Patch, PreRelease, combined);
    }

    public static bool TryParse(string text, out SemanticVersion version)
    {
        version = null;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        string buildMetadata = null;
        int plus = text.IndexOf('+');
        if (plus >= 0)
        {
            buildMetadata = text.Substring(plus + 1);
            if (!IsValidBuildMetadata(buildMetadata))
            {
                return false;
            }

            text = text.Substring(0, plus);
        }

        string[] preRelease = new string[0];
        int dash = text.IndexOf('-');
        if (dash >= 0)
        {
            if (!TryParsePreRelease(text.Substring(dash + 1), out preRelease))
            {
                return false;
            }

            text = text.Substring(0, dash);
        }

        string[] numbers = text.Split('.');
        int major;
        int minor;
        int patch;
        if (numbers.Length != 3
            || !TryParseNumber(numbers[0], out major)
            || !TryParseNumber(numbers[1], out minor)
            || !TryParseNumber(numbers[2], out patch))
        {
            return false;
        }

        version = new SemanticVersion(major, minor, patch, preRelease, buildMetadata);
        return true;
    }

    /// <summary>Parses a non-negative number without leading zeros that fits in an <see cref="int"/>.</summary>
    public static bool TryParseNumber(string text, out int value)
    {
        value = 0;
        return IsNumeric(text)
            && (text.Length == 1 || text[0] != '0')
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static bool TryParsePreRelease(string text, out string[] identifiers)
    {
        identifiers = text.Split('.');
        foreach (string identifier in identifiers)
        {
            if (!IsIdentifier(identifier) || (IsNumeric(identifier) && identifier.Length > 1 && identifier[0] == '0'))
            {
                identifiers = null;
                return false;
            }
        }

        return true;
    }

    public static bool IsValidBuildMetadata(string text)
    {
        foreach (string identifier in text.Split('.'))
        {
            if (!IsIdentifier(identifier))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Compares by SemVer 2.0 precedence (section 11); build metadata does not count.</summary>
    public static int Compare(SemanticVersion x, SemanticVersion y)
    {
        int result = x.Major.CompareTo(y.Major);
        if (result == 0)
        {
            result = x.Minor.CompareTo(y.Minor);
        }

        if (result == 0)
        {
            result = x.Patch.CompareTo(y.Patch);
        }

        if (result != 0)
        {
            return result;
        }

        // A version without pre-release identifiers ranks above any pre-release of it.
        if (x.PreRelease.Length == 0 || y.PreRelease.Length == 0)
        {
            return y.PreRelease.Length.CompareTo(x.PreRelease.Length);
        }

        int count = Math.Min(x.PreRelease.Length, y.PreRelease.Length);
        for (int i = 0; i < count; i++)
        {
            result = CompareIdentifiers(x.PreRelease[i], y.PreRelease[i]);
            if (result != 0)
            {
                return result;
            }
        }

        return x.PreRelease.Length.CompareTo(y.PreRelease.Length);
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Major.ToString(CultureInfo.InvariantCulture)).Append('.')
            .Append(Minor.ToString(CultureInfo.InvariantCulture)).Append('.')
            .Append(Patch.ToString(CultureInfo.InvariantCulture));
        if (PreRelease.Length > 0)
        {
            text.Append('-').Append(string.Join(".", PreRelease));
        }

        if (BuildMetadata != null)
        {
            text.Append('+').Append(BuildMetadata);
        }

        return text.ToString();
    }

    private static int CompareIdentifiers(string x, string y)
    {
        bool xNumeric = IsNumeric(x);
        bool yNumeric = IsNumeric(y);
        if (xNumeric && yNumeric)
        {
            // Numeric identifiers have no leading zeros, so the longer one is the larger, whatever its size.
            return x.Length != y.Length ? x.Length.CompareTo(y.Length) : string.CompareOrdinal(x, y);
        }

        if (xNumeric != yNumeric)
        {
            return xNumeric ? -1 : 1;
        }

        return Math.Sign(string.CompareOrdinal(x, y));
    }

    private static bool IsNumeric(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (c < '0' || c > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsIdentifier(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (char c in text)
        {
            bool valid = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
            if (!valid)
            {
                return false;
            }
        }

        return true;
    }
}
