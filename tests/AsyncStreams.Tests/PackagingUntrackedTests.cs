namespace AsyncStreams.Tests;

/// <summary>Packing a clone without a remote one commit after its tag, building it with a local origin, and building outside git.</summary>
public sealed class PackagingUntrackedTests(UntrackedPackageFixture fixture) : IClassFixture<UntrackedPackageFixture>
{
    private BuiltPackage Package => new(Path.Combine(fixture.Feed, "AsyncStreams.1.2.4-alpha.0.1.nupkg"));

    private BuiltPackage Symbols => new(Path.Combine(fixture.Feed, "AsyncStreams.1.2.4-alpha.0.1.snupkg"));

    [Fact]
    public void Pack_OneCommitAfterTag_ProducesNextPatchPreRelease()
    {
        Assert.True(Package.Exists, fixture.Pack.Combined);
        Assert.True(Symbols.Exists, fixture.Pack.Combined);
        Assert.Equal("1.2.4-alpha.0.1", BuiltPackage.Child(Package.NuspecMetadata(), "version")?.Value);
    }

    [Fact]
    public void Pack_NoRemote_PrintsNoWarnings()
    {
        Assert.Empty(fixture.Pack.Warnings());
    }

    [Fact]
    public void Build_OriginIsLocalPath_PrintsNoWarnings()
    {
        Assert.Empty(fixture.BuildWithLocalOrigin.Warnings());
    }

    [Fact]
    public void Pack_NoRemote_PdbCarriesNoSourceLink()
    {
        Assert.Null(Symbols.SourceLinkJson("lib/net10.0/AsyncStreams.pdb"));
    }

    [Fact]
    public void Pack_NoRemote_AssemblyCarriesVersionsAndCommit()
    {
        using var scratch = new ScratchDirectory("assembly");
        var (assemblyVersion, fileVersion, informationalVersion) =
            Package.AssemblyVersions("lib/net10.0/AsyncStreams.dll", scratch.Path);

        Assert.Equal(new Version(1, 0, 0, 0), assemblyVersion);
        Assert.Equal("1.2.4.0", fileVersion);
        Assert.Equal($"1.2.4-alpha.0.1+{fixture.Commit}", informationalVersion);
    }

    [Fact]
    public void Build_OutsideGitWorkTree_WarnsOnlyAboutTheVersion()
    {
        string warning = Assert.Single(fixture.BuildOutsideGit.Warnings());
        Assert.Contains("warning MINVER1001", warning, StringComparison.Ordinal);

        string dll = Path.Combine(fixture.OutsideGit, "src", "AsyncStreams", "bin", "Release", "net10.0", "AsyncStreams.dll");
        Assert.Equal("0.0.0-alpha.0", System.Diagnostics.FileVersionInfo.GetVersionInfo(dll).ProductVersion);
    }
}
