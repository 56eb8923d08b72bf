namespace AsyncStreams.Tests;

/// <summary>The MinVer target of build/MinVer.targets, run for real against throwaway git repositories.</summary>
public sealed class VersioningTargetTests(VersioningTargetFixture fixture) : IClassFixture<VersioningTargetFixture>
{
    public static TheoryData<string> VersionScenarios => VersioningScenarios.VersionNames;

    public static TheoryData<string> ErrorScenarios => VersioningScenarios.ErrorNames;

    [Theory]
    [MemberData(nameof(VersionScenarios))]
    public void MinVer_Scenario_ComputesExpectedVersion(string scenario)
    {
        VersioningScenario expected = VersioningScenarios.Get(scenario);
        VersioningResult result = fixture[scenario];

        Assert.True(result.Errors.Count == 0, VersioningTargetFixture.Describe(result));
        Assert.Equal(expected.ExpectedVersion, result.Property("MinVerVersion"));
        if (expected.ExpectedWarning is null)
        {
            Assert.True(result.Warnings.Count == 0, VersioningTargetFixture.Describe(result));
        }
    }

    [Fact]
    public void MinVer_RtmTagOneCommitLater_SetsEveryVersionProperty()
    {
        VersioningResult result = fixture["RTM tag, one commit later"];

        Assert.Equal("1.2.4-alpha.0.1", result.Property("MinVerVersion"));
        Assert.Equal("1", result.Property("MinVerMajor"));
        Assert.Equal("2", result.Property("MinVerMinor"));
        Assert.Equal("4", result.Property("MinVerPatch"));
        Assert.Equal("alpha.0.1", result.Property("MinVerPreRelease"));
        Assert.Equal(string.Empty, result.Property("MinVerBuildMetadata"));
        Assert.Equal("1.2.4-alpha.0.1", result.Property("Version"));
        Assert.Equal("1.2.4-alpha.0.1", result.Property("PackageVersion"));
        Assert.Equal("1.0.0.0", result.Property("AssemblyVersion"));
        Assert.Equal("1.2.4.0", result.Property("FileVersion"));
        Assert.Equal("1.2.4-alpha.0.1", result.Property("InformationalVersion"));
    }

    [Fact]
    public void MinVer_BuildMetadata_StaysOutOfPackageVersion()
    {
        VersioningResult result = fixture["build metadata with height"];

        Assert.Equal("1.2.4-alpha.0.1+build.42", result.Property("MinVerVersion"));
        Assert.Equal("build.42", result.Property("MinVerBuildMetadata"));
        Assert.Equal("1.2.4-alpha.0.1", result.Property("PackageVersion"));
        Assert.Equal("1.2.4-alpha.0.1", result.Property("Version"));
        Assert.Equal("1.2.4-alpha.0.1+build.42", result.Property("InformationalVersion"));
    }

    [Fact]
    public void MinVer_Override_SetsVersionPropertiesFromOverride()
    {
        VersioningResult result = fixture["override"];

        Assert.Equal("4.5.6-beta.7", result.Property("PackageVersion"));
        Assert.Equal("4.0.0.0", result.Property("AssemblyVersion"));
        Assert.Equal("4.5.6.0", result.Property("FileVersion"));
        Assert.Equal("4.5.6-beta.7+ci.8", result.Property("InformationalVersion"));
    }

    [Fact]
    public void MinVer_OutsideGitWorkTree_WarnsOnceAndUsesDefaultVersion()
    {
        VersioningResult result = fixture["not a git work tree"];

        Assert.Equal("0.0.0-alpha.0", result.Property("PackageVersion"));
        string warning = Assert.Single(result.Warnings);
        Assert.Contains("warning MINVER1001", warning, StringComparison.Ordinal);
        Assert.Contains("is not a valid Git working directory", warning, StringComparison.Ordinal);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void MinVer_Skip_LeavesVersionPropertiesUnset()
    {
        VersioningResult result = fixture["skip"];

        Assert.Equal(string.Empty, result.Property("MinVerVersion"));
        Assert.Equal(string.Empty, result.Property("Version"));
        Assert.Equal(string.Empty, result.Property("PackageVersion"));
        Assert.Empty(result.Warnings);
    }

    [Theory]
    [MemberData(nameof(ErrorScenarios))]
    public void MinVer_InvalidInput_FailsWithMinVerError(string scenario)
    {
        VersioningScenario expected = VersioningScenarios.Get(scenario);
        VersioningResult result = fixture[scenario];

        Assert.Null(result.Properties);
        string error = Assert.Single(result.Errors);
        Assert.Contains($"error {expected.ExpectedError}:", error, StringComparison.Ordinal);
    }
}
