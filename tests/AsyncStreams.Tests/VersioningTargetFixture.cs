using System.Globalization;
using System.Security;

namespace AsyncStreams.Tests;

/// <summary>What the MinVer target produced for one scenario: its output properties and its diagnostics.</summary>
internal sealed record VersioningResult(IReadOnlyDictionary<string, string>? Properties, IReadOnlyList<string> Warnings, IReadOnlyList<string> Errors)
{
    public string Property(string name) =>
        Properties is null
            ? throw new InvalidOperationException($"The MinVer target failed: {string.Join(Environment.NewLine, Errors)}")
            : Properties[name];
}

/// <summary>
/// Builds one throwaway repository per scenario, then runs the real MinVer target (build/MinVer.targets) for all of
/// them in a single MSBuild process, so the inline task compiles once and the whole table takes seconds.
/// </summary>
public sealed class VersioningTargetFixture : IAsyncLifetime
{
    internal static readonly string[] ReportedProperties =
    [
        "MinVerVersion", "MinVerMajor", "MinVerMinor", "MinVerPatch", "MinVerPreRelease", "MinVerBuildMetadata",
        "Version", "PackageVersion", "AssemblyVersion", "FileVersion", "InformationalVersion",
    ];

    private readonly ScratchDirectory _scratch = new("versioning");
    private readonly Dictionary<string, VersioningResult> _results = new(StringComparer.Ordinal);

    internal ProcessOutput? BatchOutput { get; private set; }

    internal VersioningResult this[string scenario] => _results[scenario];

    public async ValueTask InitializeAsync()
    {
        var projects = new List<(VersioningScenario Scenario, string Project)>();
        for (int i = 0; i < VersioningScenarios.All.Count; i++)
        {
            VersioningScenario scenario = VersioningScenarios.All[i];
            string directory = Path.Combine(_scratch.Path, $"s{i:D2}");
            if (scenario.OutsideGit)
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                scenario.Arrange?.Invoke(GitRepository.Init(directory));
            }

            string project = Path.Combine(directory, "scenario.proj");
            await File.WriteAllTextAsync(project, ScenarioProject());
            projects.Add((scenario, project));
        }

        string driver = Path.Combine(_scratch.Path, "driver.proj");
        string results = Path.Combine(_scratch.Path, "results.txt");
        await File.WriteAllTextAsync(driver, DriverProject(projects, results));

        BatchOutput = await ExternalProcess.DotnetAsync(
            ["msbuild", driver, "-nologo", "-v:m", "-tl:off", "-nodeReuse:false"],
            _scratch.Path,
            TimeSpan.FromMinutes(3));

        Dictionary<string, Dictionary<string, string>> reported = File.Exists(results)
            ? ParseResults(await File.ReadAllLinesAsync(results))
            : [];
        foreach (var (scenario, project) in projects)
        {
            string directory = Path.GetDirectoryName(project)!;
            string marker = $"[{project}]";
            List<string> ForProject(IEnumerable<string> lines) => lines.Where(l => l.EndsWith(marker, StringComparison.Ordinal)).ToList();
            _results[scenario.Name] = new VersioningResult(
                reported.GetValueOrDefault(directory),
                ForProject(BatchOutput.Warnings()),
                ForProject(BatchOutput.Errors()));
        }
    }

    public ValueTask DisposeAsync()
    {
        _scratch.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string ScenarioProject()
    {
        string metadata = string.Join(" ", ReportedProperties.Select(p => $"{p}=\"$({p})\""));
        return $"""
            <Project>
              <Import Project="{SecurityElement.Escape(RepositoryLayout.MinVerTargets)}" />
              <Target Name="ReportVersion" DependsOnTargets="MinVer" Returns="@(VersionReport)">
                <ItemGroup>
                  <VersionReport Include="$(MSBuildProjectDirectory)" {metadata} />
                </ItemGroup>
              </Target>
            </Project>
            """;
    }

    private static string DriverProject(List<(VersioningScenario Scenario, string Project)> projects, string results)
    {
        var items = projects.Select(p =>
        {
            var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["MinVerTagPrefix"] = "v" };
            foreach (var (key, value) in p.Scenario.Properties ?? new Dictionary<string, string>())
            {
                properties[key] = value;
            }

            string additional = string.Join(";", properties.Select(kv => $"{kv.Key}={Escape(kv.Value)}"));
            return $"""    <Scenario Include="{SecurityElement.Escape(p.Project)}" AdditionalProperties="{SecurityElement.Escape(additional)}" />""";
        });

        // One line per scenario: the directory, then name=value for every reported property, separated by '|'.
        string line = "%(Identity)" + string.Concat(ReportedProperties.Select(p => $"|{p}=%({p})"));
        return $"""
            <Project>
              <ItemGroup>
            {string.Join(Environment.NewLine, items)}
              </ItemGroup>
              <Target Name="Build">
                <MSBuild Projects="@(Scenario)" Targets="ReportVersion" ContinueOnError="ErrorAndContinue">
                  <Output TaskParameter="TargetOutputs" ItemName="Reported" />
                </MSBuild>
                <WriteLinesToFile File="{SecurityElement.Escape(results)}" Lines="@(Reported->'{line}')" Overwrite="true" />
              </Target>
            </Project>
            """;
    }

    private static string Escape(string value) =>
        value.Replace("%", "%25", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal);

    private static Dictionary<string, Dictionary<string, string>> ParseResults(string[] lines)
    {
        var parsed = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (string line in lines.Where(l => l.Length > 0))
        {
            string[] fields = line.Split('|');
            parsed[fields[0]] = fields.Skip(1)
                .Select(f => f.Split('=', 2))
                .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
        }

        return parsed;
    }

    internal static string Describe(VersioningResult result) => string.Create(
        CultureInfo.InvariantCulture,
        $"warnings: [{string.Join("; ", result.Warnings)}] errors: [{string.Join("; ", result.Errors)}]");
}
