using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace AsyncStreams.Tests;

/// <summary>
/// A copy of the working tree committed to a fresh git repository whose origin is a GitHub URL, tagged v1.2.3 and
/// packed once with `dotnet pack -c Release` into a folder that serves as a local NuGet feed.
/// </summary>
public sealed class TaggedPackageFixture : IAsyncLifetime
{
    public const string Origin = "https://github.com/asyncstreams-tests/AsyncStreams.git";
    public const string Version = "1.2.3";

    private readonly ScratchDirectory _scratch = new("package-tagged");

    public string Feed => Path.Combine(_scratch.Path, "feed");

    public string Commit { get; private set; } = string.Empty;

    internal ProcessOutput Pack { get; private set; } = null!;

    internal BuiltPackage Package => new(Path.Combine(Feed, $"AsyncStreams.{Version}.nupkg"));

    internal BuiltPackage Symbols => new(Path.Combine(Feed, $"AsyncStreams.{Version}.snupkg"));

    public async ValueTask InitializeAsync()
    {
        string clone = Path.Combine(_scratch.Path, "clone");
        GitRepository repository = PackagingClone.Create(clone);
        repository.Tag("v" + Version);
        repository.Run("remote", "add", "origin", Origin);
        Commit = repository.Run("rev-parse", "HEAD");
        Pack = await PackagingClone.PackAsync(clone, Feed);
    }

    public ValueTask DisposeAsync()
    {
        _scratch.Dispose();
        return ValueTask.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class TaggedPackageDefinition : ICollectionFixture<TaggedPackageFixture>
{
    public const string Name = "Tagged package";
}

/// <summary>
/// The same copy in a repository without any remote, one commit after the v1.2.3 tag, packed once, then built again
/// with a local path as its origin; and a second copy outside any git work tree, built once.
/// </summary>
public sealed class UntrackedPackageFixture : IAsyncLifetime
{
    private readonly ScratchDirectory _scratch = new("package-noremote");

    public string Feed => Path.Combine(_scratch.Path, "feed");

    public string OutsideGit => Path.Combine(_scratch.Path, "plain");

    public string Commit { get; private set; } = string.Empty;

    internal ProcessOutput Pack { get; private set; } = null!;

    internal ProcessOutput BuildOutsideGit { get; private set; } = null!;

    internal ProcessOutput BuildWithLocalOrigin { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        string clone = Path.Combine(_scratch.Path, "clone");
        GitRepository repository = PackagingClone.Create(clone);
        repository.Tag("v1.2.3");
        Commit = repository.Commit();
        Pack = await PackagingClone.PackAsync(clone, Feed);

        // What `git clone /some/path` leaves behind: an origin that is a local path, not a URL with a host.
        string upstream = Path.Combine(_scratch.Path, "upstream.git");
        ExternalProcess.Git(_scratch.Path, "init", "--quiet", "--bare", upstream);
        repository.Run("remote", "add", "origin", upstream);
        repository.Run("push", "--quiet", "origin", "main");
        BuildWithLocalOrigin = (await ExternalProcess.DotnetAsync(
            ["build", "src/AsyncStreams/AsyncStreams.csproj", "-c", "Release", "-nologo", "-tl:off", "-nodeReuse:false"],
            clone,
            TimeSpan.FromMinutes(4))).EnsureSuccess();

        RepositoryLayout.CopyBuildInputsTo(OutsideGit);
        BuildOutsideGit = (await ExternalProcess.DotnetAsync(
            ["build", "src/AsyncStreams/AsyncStreams.csproj", "-c", "Release", "-nologo", "-tl:off", "-nodeReuse:false"],
            OutsideGit,
            TimeSpan.FromMinutes(4))).EnsureSuccess();
    }

    public ValueTask DisposeAsync()
    {
        _scratch.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal static class PackagingClone
{
    /// <summary>Copies the working tree into a new repository and commits it as one snapshot commit.</summary>
    public static GitRepository Create(string path)
    {
        RepositoryLayout.CopyBuildInputsTo(path);
        GitRepository repository = GitRepository.Init(path);
        repository.Run("add", "--all");
        repository.Run("commit", "--quiet", "-m", $"Snapshot of the working tree in {Path.GetFileName(Path.GetDirectoryName(path))}");
        return repository;
    }

    public static async Task<ProcessOutput> PackAsync(string clone, string feed) =>
        (await ExternalProcess.DotnetAsync(
            ["pack", "src/AsyncStreams/AsyncStreams.csproj", "-c", "Release", "-o", feed, "-nologo", "-tl:off", "-nodeReuse:false"],
            clone,
            TimeSpan.FromMinutes(4))).EnsureSuccess();
}

/// <summary>Reads a .nupkg or .snupkg: its nuspec, its entries, and the assembly and PDB inside.</summary>
internal sealed class BuiltPackage(string path)
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    public string Path { get; } = path;

    public bool Exists => File.Exists(Path);

    public IReadOnlyList<string> Entries()
    {
        using ZipArchive archive = ZipFile.OpenRead(Path);
        return archive.Entries.Select(e => e.FullName).ToList();
    }

    public byte[] Read(string entryName)
    {
        using ZipArchive archive = ZipFile.OpenRead(Path);
        ZipArchiveEntry entry = archive.GetEntry(entryName)
            ?? throw new InvalidOperationException($"{Path} has no entry {entryName}.");
        using Stream stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public string ReadText(string entryName) => Encoding.UTF8.GetString(Read(entryName)).TrimStart('\uFEFF');

    public XElement NuspecMetadata()
    {
        string nuspec = Entries().Single(e => e.EndsWith(".nuspec", StringComparison.Ordinal));
        XElement package = XElement.Parse(ReadText(nuspec));
        return package.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    public static XElement? Child(XElement element, string localName) =>
        element.Elements().SingleOrDefault(e => e.Name.LocalName == localName);

    /// <summary>Gets the SourceLink JSON of the packed PDB, or null when the PDB carries none.</summary>
    public string? SourceLinkJson(string pdbEntry)
    {
        using var pdb = new MemoryStream(Read(pdbEntry));
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
        MetadataReader reader = provider.GetMetadataReader();
        foreach (CustomDebugInformationHandle handle in reader.CustomDebugInformation)
        {
            CustomDebugInformation information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) == SourceLinkKind)
            {
                return Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
            }
        }

        return null;
    }

    public static IReadOnlyList<string> SourceLinkTargets(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("documents").EnumerateObject().Select(p => p.Value.GetString()!).ToList();
    }

    /// <summary>Extracts the assembly and reads its version, file version and informational version.</summary>
    public (Version? AssemblyVersion, string? FileVersion, string? InformationalVersion) AssemblyVersions(string dllEntry, string scratch)
    {
        string file = System.IO.Path.Combine(scratch, System.IO.Path.GetFileName(dllEntry));
        File.WriteAllBytes(file, Read(dllEntry));
        FileVersionInfo info = FileVersionInfo.GetVersionInfo(file);
        return (AssemblyName.GetAssemblyName(file).Version, info.FileVersion, info.ProductVersion);
    }
}
