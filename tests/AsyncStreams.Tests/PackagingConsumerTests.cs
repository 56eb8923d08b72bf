namespace AsyncStreams.Tests;

/// <summary>
/// The packed library referenced as a NuGet package by a console program outside the repository, with its own
/// nuget.config (the packed feed plus nuget.org) and its own packages folder, so no cached copy can stand in.
/// </summary>
[Collection(TaggedPackageDefinition.Name)]
public sealed class PackagingConsumerTests(TaggedPackageFixture fixture)
{
    // Each check is a static method named in Checks; the program prints "<name>: <result>" per check,
    // so another end-to-end use of the public API is one method and one line in Checks.
    private const string Program = """
        using System.Text;
        using StreamReader = AsyncStreams.StreamReader;

        var checks = new (string Name, Func<CancellationToken, Task<string>> Run)[]
        {
            ("reader", ReadFedLineAsync),
        };

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var (name, run) in checks)
        {
            Console.WriteLine($"{name}: {await run(timeout.Token)}");
        }

        return 0;

        static async Task<string> ReadFedLineAsync(CancellationToken cancellationToken)
        {
            var reader = new StreamReader();
            reader.FeedData("hello from the package\nsecond line"u8);
            reader.FeedEof();
            byte[] line = await reader.ReadLineAsync(cancellationToken);
            byte[] rest = await reader.ReadLineAsync(cancellationToken);
            return $"{Encoding.UTF8.GetString(line).TrimEnd('\n')} | {Encoding.UTF8.GetString(rest)} | eof={reader.AtEof}";
        }
        """;

    [Fact]
    public async Task Consumer_PackageFromLocalFeed_BuildsAndRuns()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        using var consumer = new ScratchDirectory("consumer");
        string packages = Path.Combine(consumer.Path, "packages");
        string project = Path.Combine(consumer.Path, "Consumer");
        WriteConsumer(project, packages);
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = packages };

        ProcessOutput build = await ExternalProcess.DotnetAsync(
            ["build", "-c", "Release", "-nologo", "-tl:off", "-nodeReuse:false"],
            project,
            TimeSpan.FromMinutes(4),
            environment,
            cancellationToken);

        Assert.True(build.ExitCode == 0, build.Combined);
        Assert.Empty(build.Warnings());
        Assert.True(
            File.Exists(Path.Combine(packages, "asyncstreams", TaggedPackageFixture.Version, $"asyncstreams.{TaggedPackageFixture.Version}.nupkg")),
            "AsyncStreams was not restored from the packed feed into the consumer's own packages folder.");

        ProcessOutput run = await ExternalProcess.DotnetAsync(
            [Path.Combine(project, "bin", "Release", "net10.0", "Consumer.dll")],
            project,
            TimeSpan.FromMinutes(1),
            environment,
            cancellationToken);

        Assert.True(run.ExitCode == 0, run.Combined);
        Assert.Contains("reader: hello from the package | second line | eof=True", run.StandardOutput, StringComparison.Ordinal);
    }

    private void WriteConsumer(string project, string packages)
    {
        Directory.CreateDirectory(project);

        // Empty Directory.* files stop MSBuild from picking up whatever lies above the temporary folder.
        foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(project, name), "<Project />\n");
        }

        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{System.Security.SecurityElement.Escape(packages)}" />
              </config>
              <packageSources>
                <clear />
                <add key="packed" value="{System.Security.SecurityElement.Escape(fixture.Feed)}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
            </configuration>
            """);

        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="AsyncStreams" Version="[{TaggedPackageFixture.Version}]" />
              </ItemGroup>
            </Project>
            """);

        File.WriteAllText(Path.Combine(project, "Program.cs"), Program);
    }
}
