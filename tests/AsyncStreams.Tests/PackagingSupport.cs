using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace AsyncStreams.Tests;

/// <summary>The output of a finished external program.</summary>
internal sealed record ProcessOutput(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public string Combined => StandardOutput + StandardError;

    public ProcessOutput EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{Command}' exited with {ExitCode}.{Environment.NewLine}{StandardOutput}{Environment.NewLine}{StandardError}");
        }

        return this;
    }

    /// <summary>Lists the distinct MSBuild warnings in the output (the console logger repeats them in its summary).</summary>
    public IReadOnlyList<string> Warnings() => Diagnostics(WarningPattern());

    /// <summary>Lists the distinct MSBuild errors in the output.</summary>
    public IReadOnlyList<string> Errors() => Diagnostics(ErrorPattern());

    private List<string> Diagnostics(Regex pattern) =>
        Combined.Split('\n').Select(line => line.Trim()).Where(line => pattern.IsMatch(line)).Distinct(StringComparer.Ordinal).ToList();

    private static Regex WarningPattern() => new(@":\s+warning(\s+[A-Za-z]+\d+)?\s*:", RegexOptions.CultureInvariant);

    private static Regex ErrorPattern() => new(@":\s+error(\s+[A-Za-z]+\d+)?\s*:", RegexOptions.CultureInvariant);
}

/// <summary>Runs git and dotnet for the packaging and versioning tests, isolated from the machine's settings.</summary>
internal static class ExternalProcess
{
    private static readonly Lazy<string> EmptyGitConfig = new(() =>
    {
        string path = Path.Combine(ScratchDirectory.Root, "empty.gitconfig");
        Directory.CreateDirectory(ScratchDirectory.Root);
        if (!File.Exists(path))
        {
            File.WriteAllText(path, string.Empty);
        }

        return path;
    });

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
        ? host
        : "dotnet";

    public static async Task<ProcessOutput> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Isolate(startInfo.Environment);
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        string command = fileName + " " + string.Join(' ', startInfo.ArgumentList);
        var output = new StringBuilder();
        var error = new StringBuilder();
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outputClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errorClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.Exited += (_, _) => exited.TrySetResult();
        process.OutputDataReceived += (_, e) => Append(output, outputClosed, e.Data);
        process.ErrorDataReceived += (_, e) => Append(error, errorClosed, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await exited.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"'{command}' did not finish within {timeout}.{Environment.NewLine}{Snapshot(output)}{Snapshot(error)}");
        }

        // A process it started (a build server, say) may keep the pipes open after the program itself has exited,
        // so the end of the output is awaited for a bounded time only; everything the program wrote is in by then.
        try
        {
            await Task.WhenAll(outputClosed.Task, errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (TimeoutException)
        {
            lock (error)
            {
                error.Append("(the output pipes stayed open after the process exited)\n");
            }
        }

        return new ProcessOutput(command, process.ExitCode, Snapshot(output), Snapshot(error));
    }

    public static Task<ProcessOutput> DotnetAsync(
        IEnumerable<string> arguments,
        string workingDirectory,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(Dotnet, arguments, workingDirectory, timeout, environment, cancellationToken);

    /// <summary>Runs git synchronously (it answers in milliseconds) and throws when it fails.</summary>
    public static string Git(string workingDirectory, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Isolate(startInfo.Environment);
        using var process = Process.Start(startInfo)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"git {string.Join(' ', arguments)} did not finish within 30 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} exited with {process.ExitCode}: {error.Result}{output}");
        }

        return output.Trim();
    }

    private static void Isolate(IDictionary<string, string?> environment)
    {
        // A build started from a test must not inherit the MSBuild settings of the process that runs the tests.
        foreach (string key in environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            environment.Remove(key);
        }

        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_CLI_UI_LANGUAGE"] = "en";

        // Git runs with a fixed identity and without the user's or the system's configuration (signing, hooks, templates).
        environment["GIT_CONFIG_NOSYSTEM"] = "1";
        environment["GIT_CONFIG_GLOBAL"] = EmptyGitConfig.Value;
        environment["GIT_AUTHOR_NAME"] = "AsyncStreams Tests";
        environment["GIT_AUTHOR_EMAIL"] = "tests@asyncstreams.invalid";
        environment["GIT_COMMITTER_NAME"] = "AsyncStreams Tests";
        environment["GIT_COMMITTER_EMAIL"] = "tests@asyncstreams.invalid";
        environment["GIT_CEILING_DIRECTORIES"] = ScratchDirectory.Root;
        environment.Remove("GIT_DIR");
        environment.Remove("GIT_WORK_TREE");
    }

    private static void Append(StringBuilder builder, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (builder)
        {
            builder.Append(line).Append('\n');
        }
    }

    private static string Snapshot(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }
}

/// <summary>A throwaway git repository for versioning scenarios; every commit gets a unique message.</summary>
internal sealed class GitRepository(string path)
{
    private int _commits;

    public string Path { get; } = path;

    public static GitRepository Init(string path)
    {
        Directory.CreateDirectory(path);
        if (Directory.Exists(System.IO.Path.Combine(path, ".git")) || File.Exists(System.IO.Path.Combine(path, ".git")))
        {
            throw new InvalidOperationException($"{path} already belongs to a git repository.");
        }

        ExternalProcess.Git(path, "init", "--quiet", "--initial-branch=main");

        // Every later command must act on this new repository and never on one that encloses it.
        string gitDirectory = ExternalProcess.Git(path, "rev-parse", "--git-dir");
        if (gitDirectory != ".git")
        {
            throw new InvalidOperationException($"git init in {path} left git using {gitDirectory}.");
        }

        return new GitRepository(path);
    }

    public string Run(params string[] arguments) => ExternalProcess.Git(Path, arguments);

    /// <summary>Commits (empty) with a message unique in this repository, so no two commits can share a sha.</summary>
    public string Commit()
    {
        int number = Interlocked.Increment(ref _commits);
        Run("commit", "--quiet", "--allow-empty", "-m", $"Commit {number} in {System.IO.Path.GetFileName(Path)}");
        return Run("rev-parse", "HEAD");
    }

    public void Commits(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Commit();
        }
    }

    public void Tag(string name) => Run("tag", name);

    public void AnnotatedTag(string name) => Run("tag", "--annotate", name, "-m", $"Release {name}");

    public void Branch(string name, string startPoint) => Run("checkout", "--quiet", "-b", name, startPoint);

    public void Checkout(string name) => Run("checkout", "--quiet", name);

    public string Merge(string branch)
    {
        int number = Interlocked.Increment(ref _commits);
        Run("merge", "--quiet", "--no-ff", "-m", $"Merge {branch} as commit {number}", branch);
        return Run("rev-parse", "HEAD");
    }
}

/// <summary>A temporary directory outside the repository, deleted on dispose.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public static readonly string Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "asyncstreams-tests");

    public ScratchDirectory(string purpose)
    {
        Path = System.IO.Path.Combine(Root, $"{purpose}-{Guid.NewGuid():N}"[..(purpose.Length + 13)]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (!Directory.Exists(Path))
        {
            return;
        }

        // Git writes its objects read-only, which stops a recursive delete on Windows.
        foreach (string file in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Locates this repository and copies the parts a package is built from.</summary>
internal static class RepositoryLayout
{
    private static readonly HashSet<string> SkippedEntries = new(StringComparer.OrdinalIgnoreCase)
    {
        ".git", "bin", "obj", "tests", "samples", "docs", "benchmarks", "tools", "artifacts", "TestResults", ".vs", ".idea",
    };

    public static string Root { get; } = FindRoot();

    public static string MinVerTargets => Path.Combine(Root, "build", "MinVer.targets");

    /// <summary>Copies the working tree (uncommitted edits included) without git data, build output or test code.</summary>
    public static void CopyBuildInputsTo(string destination) => Copy(Root, destination);

    private static void Copy(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            // In a git worktree .git is a file pointing at the real repository; a copy of it would let the
            // tests' git commands act on that repository instead of the copy.
            if (!SkippedEntries.Contains(Path.GetFileName(file)))
            {
                File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
            }
        }

        foreach (string directory in Directory.EnumerateDirectories(source))
        {
            string name = Path.GetFileName(directory);
            if (!SkippedEntries.Contains(name))
            {
                Copy(directory, Path.Combine(destination, name));
            }
        }
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AsyncStreams.sln"))
                && File.Exists(Path.Combine(directory.FullName, "build", "MinVer.targets")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No AsyncStreams repository above {AppContext.BaseDirectory}.");
    }
}
