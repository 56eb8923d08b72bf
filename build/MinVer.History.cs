// Reads what build/MinVer.targets needs from git. MSBuild compiles this file with RoslynCodeTaskFactory, against
// netstandard, so it keeps to APIs and language features that need no newer runtime support.
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Walks the git history from HEAD the way MinVer does and returns the candidate versions: every version tag on
/// the nearest tagged commit of each path, and every untagged root commit reached, each with its height.
/// </summary>
public sealed class ReadMinVerHistory : Task
{
    [Required] public string WorkingDirectory { get; set; }
    public string TagPrefix { get; set; }

    /// <summary>Gets or sets the SemVer 2.0 grammar a tag name (without the prefix) must match to be a version tag.</summary>
    [Required] public string VersionPattern { get; set; }

    /// <summary>Gets or sets whether per-tag and per-commit messages are shown (detailed and diagnostic verbosity).</summary>
    public bool Detailed { get; set; }

    /// <summary>Gets the outcome: "history", "no-commits" or "not-a-work-tree".</summary>
    [Output] public string State { get; private set; }

    /// <summary>Gets git's explanation when the directory is not a work tree.</summary>
    [Output] public string Reason { get; private set; }

    /// <summary>Gets the candidates in the order they were found, each with Commit, Height and Tag (empty for a root).</summary>
    [Output] public ITaskItem[] Candidates { get; private set; }

    public override bool Execute()
    {
        Candidates = new ITaskItem[0];
        Reason = string.Empty;

        GitOutput workTree = RunGit("rev-parse --is-inside-work-tree");
        if (workTree.ExitCode != 0 || workTree.Output.Trim() != "true")
        {
            State = "not-a-work-tree";
            Reason = (workTree.Error ?? string.Empty).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? string.Empty;
            return true;
        }

        GitOutput head = RunGit("rev-parse --verify --quiet HEAD");
        if (head.ExitCode != 0)
        {
            State = "no-commits";
            return true;
        }

        // show-ref exits with 1 when the repository has no tags at all.
        GitOutput tags = RunGit("show-ref --tags --dereference");
        if (tags.ExitCode != 0 && tags.ExitCode != 1)
        {
            return GitFailed("show-ref --tags --dereference", tags);
        }

        GitOutput history = RunGit("rev-list --parents HEAD");
        if (history.ExitCode != 0)
        {
            return GitFailed("rev-list --parents HEAD", history);
        }

        State = "history";
        Candidates = Walk(head.Output.Trim(), ReadVersionTags(tags.Output), ReadParents(history.Output)).ToArray();
        return true;
    }

    private Dictionary<string, List<string>> ReadVersionTags(string showRefOutput)
    {
        // Lines are "<sha> refs/tags/<name>", plus "<sha> refs/tags/<name>^{}" with the commit an annotated tag points to.
        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match line in Regex.Matches(showRefOutput, @"^([0-9a-f]+) refs/tags/(.+?)(\^\{\})?\r?$", RegexOptions.Multiline))
        {
            string name = line.Groups[2].Value;
            if (line.Groups[3].Success || !targets.ContainsKey(name))
            {
                targets[name] = line.Groups[1].Value;
            }
        }

        string prefix = TagPrefix ?? string.Empty;
        var grammar = new Regex(VersionPattern, RegexOptions.CultureInvariant);
        var byCommit = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> tag in targets.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            Match version = tag.Key.StartsWith(prefix, StringComparison.Ordinal) ? grammar.Match(tag.Key.Substring(prefix.Length)) : Match.Empty;
            bool isVersion = version.Success && Enumerable.Range(1, 3).All(i =>
                int.TryParse(version.Groups[i].Value, NumberStyles.None, CultureInfo.InvariantCulture, out _));
            if (!isVersion)
            {
                Log.LogMessage(Detailed ? MessageImportance.High : MessageImportance.Low,
                    "MinVer: Ignoring non-version tag {{ Name: {0}, Sha: {1} }}.", tag.Key, tag.Value);
                continue;
            }

            List<string> names;
            if (!byCommit.TryGetValue(tag.Value, out names))
            {
                byCommit.Add(tag.Value, names = new List<string>());
            }

            names.Add(tag.Key);
        }

        return byCommit;
    }

    private static Dictionary<string, string[]> ReadParents(string revListOutput)
    {
        var parents = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string line in revListOutput.Split('\n'))
        {
            string[] shas = line.Trim().Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            if (shas.Length > 0)
            {
                parents[shas[0]] = shas.Skip(1).ToArray();
            }
        }

        return parents;
    }

    private List<ITaskItem> Walk(string head, Dictionary<string, List<string>> tagsByCommit, Dictionary<string, string[]> parents)
    {
        // Depth-first from HEAD, first parent first. A path stops at the first commit with a version tag;
        // a commit reached a second time keeps the height of the path that reached it first.
        var candidates = new List<ITaskItem>();
        var checkedCommits = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<KeyValuePair<string, int>>();
        pending.Push(new KeyValuePair<string, int>(head, 0));
        while (pending.Count > 0)
        {
            KeyValuePair<string, int> item = pending.Pop();
            List<string> tags;
            string[] commitParents;
            if (!checkedCommits.Add(item.Key))
            {
                continue;
            }
            else if (tagsByCommit.TryGetValue(item.Key, out tags))
            {
                candidates.AddRange(tags.Select(tag => Candidate(item.Key, item.Value, tag)));
            }
            else if (!parents.TryGetValue(item.Key, out commitParents) || commitParents.Length == 0)
            {
                // A root commit, or the edge of a shallow clone, without a version tag.
                candidates.Add(Candidate(item.Key, item.Value, string.Empty));
            }
            else
            {
                for (int i = commitParents.Length - 1; i >= 0; i--)
                {
                    pending.Push(new KeyValuePair<string, int>(commitParents[i], item.Value + 1));
                }
            }
        }

        Log.LogMessage(Detailed ? MessageImportance.High : MessageImportance.Low, "MinVer: {0} commits checked.", checkedCommits.Count);
        return candidates;
    }

    private ITaskItem Candidate(string commit, int height, string tag)
    {
        var item = new TaskItem(commit);
        item.SetMetadata("Commit", commit);
        item.SetMetadata("Height", height.ToString(CultureInfo.InvariantCulture));
        item.SetMetadata("Tag", tag);
        return item;
    }

    private GitOutput RunGit(string arguments)
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
                // Both pipes are read at once so that a full stderr pipe cannot stall git while stdout is drained.
                System.Threading.Tasks.Task<string> error = process.StandardError.ReadToEndAsync();
                string output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                return new GitOutput { ExitCode = process.ExitCode, Output = output, Error = error.Result };
            }
        }
        catch (Exception ex) when (ex is Win32Exception || ex is IOException || ex is InvalidOperationException)
        {
            return new GitOutput { ExitCode = -1, Output = string.Empty, Error = "git could not be started: " + ex.Message };
        }
    }

    private bool GitFailed(string arguments, GitOutput result)
    {
        Log.LogError(null, "MINVER1007", null, null, 0, 0, 0, 0, "MinVer: 'git {0}' failed in '{1}' with exit code {2}: {3}",
            arguments, WorkingDirectory, result.ExitCode, (result.Error ?? string.Empty).Trim());
        return false;
    }

    private sealed class GitOutput
    {
        public int ExitCode;
        public string Output;
        public string Error;
    }
}
