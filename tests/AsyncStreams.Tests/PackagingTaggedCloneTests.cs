namespace AsyncStreams.Tests;

/// <summary>`dotnet pack -c Release` in a clone tagged v1.2.3 whose origin is on GitHub.</summary>
[Collection(TaggedPackageDefinition.Name)]
public sealed class PackagingTaggedCloneTests(TaggedPackageFixture fixture)
{
    [Fact]
    public void Pack_CloneTaggedV123_ProducesPackageAndSymbolsVersion123()
    {
        Assert.True(fixture.Package.Exists, fixture.Pack.Combined);
        Assert.True(fixture.Symbols.Exists, fixture.Pack.Combined);
        Assert.Equal("1.2.3", BuiltPackage.Child(fixture.Package.NuspecMetadata(), "version")?.Value);
    }

    [Fact]
    public void Pack_GitHubOrigin_PrintsNoWarnings()
    {
        Assert.Empty(fixture.Pack.Warnings());
    }

    [Fact]
    public void Pack_Package_CarriesReadmeXmlDocsAndLicenseExpression()
    {
        BuiltPackage package = fixture.Package;
        IReadOnlyList<string> entries = package.Entries();
        Assert.Contains("README.md", entries);
        Assert.Contains("lib/net10.0/AsyncStreams.dll", entries);
        Assert.Contains("lib/net10.0/AsyncStreams.xml", entries);

        string readme = File.ReadAllText(Path.Combine(RepositoryLayout.Root, "README.md"));
        Assert.Equal(readme, package.ReadText("README.md"));
        Assert.Contains("<member name=\"T:AsyncStreams.Streams\">", package.ReadText("lib/net10.0/AsyncStreams.xml"), StringComparison.Ordinal);

        var metadata = package.NuspecMetadata();
        Assert.Equal("AsyncStreams", BuiltPackage.Child(metadata, "id")?.Value);
        var license = BuiltPackage.Child(metadata, "license");
        Assert.Equal("expression", license?.Attribute("type")?.Value);
        Assert.Equal("MIT", license?.Value);
        Assert.Equal("README.md", BuiltPackage.Child(metadata, "readme")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(BuiltPackage.Child(metadata, "description")?.Value));
        Assert.Contains("asyncio", BuiltPackage.Child(metadata, "tags")?.Value ?? string.Empty, StringComparison.Ordinal);
        var repository = BuiltPackage.Child(metadata, "repository");
        Assert.Equal(TaggedPackageFixture.Origin, repository?.Attribute("url")?.Value);
        Assert.Equal(fixture.Commit, repository?.Attribute("commit")?.Value);
    }

    [Fact]
    public void Pack_Assembly_CarriesVersionsFromTag()
    {
        using var scratch = new ScratchDirectory("assembly");
        var (assemblyVersion, fileVersion, informationalVersion) =
            fixture.Package.AssemblyVersions("lib/net10.0/AsyncStreams.dll", scratch.Path);

        Assert.Equal(new Version(1, 0, 0, 0), assemblyVersion);
        Assert.Equal("1.2.3.0", fileVersion);
        Assert.Equal($"1.2.3+{fixture.Commit}", informationalVersion);
    }

    [Fact]
    public void Pack_SymbolsPackage_PdbCarriesSourceLinkToRawGitHubContent()
    {
        Assert.Contains("lib/net10.0/AsyncStreams.pdb", fixture.Symbols.Entries());

        string? json = fixture.Symbols.SourceLinkJson("lib/net10.0/AsyncStreams.pdb");

        Assert.NotNull(json);
        IReadOnlyList<string> targets = BuiltPackage.SourceLinkTargets(json);
        Assert.NotEmpty(targets);
        Assert.All(targets, target => Assert.StartsWith(
            $"https://raw.githubusercontent.com/asyncstreams-tests/AsyncStreams/{fixture.Commit}/", target, StringComparison.Ordinal));
    }
}
