namespace AsyncStreams.Benchmarks.Harness;

/// <summary>Finds the repository the benchmarks run from.</summary>
internal static class RepositoryRoot
{
    /// <summary>Returns the nearest directory above the current one (or this program) that holds AsyncStreams.sln.</summary>
    public static string Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "AsyncStreams.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new ArgumentException("Cannot find the repository root (AsyncStreams.sln); pass --root.");
    }
}
