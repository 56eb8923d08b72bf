// Generates docs/api.md from the built AsyncStreams assembly and its XML documentation file.
// Run from the repository root: dotnet run --project tools/ApiDocGen -- docs/api.md
// With --check the page is compared instead of written, and the exit code is 1 when it is out of date.
using System.Xml.Linq;
using ApiDocGen;

var check = args.Contains("--check");
var paths = args.Where(a => a != "--check").ToList();
if (paths.Count > 1 || args.Any(a => a is "-h" or "--help"))
{
    Console.Error.WriteLine("Usage: ApiDocGen [--check] [output.md]   (default output: docs/api.md)");
    return 2;
}

var output = paths.Count == 1 ? paths[0] : Path.Combine("docs", "api.md");
var assembly = typeof(AsyncStreams.Streams).Assembly;
var xmlPath = Path.ChangeExtension(assembly.Location, ".xml");
if (!File.Exists(xmlPath))
{
    Console.Error.WriteLine($"error: the XML documentation file {xmlPath} is missing; build src/AsyncStreams with GenerateDocumentationFile.");
    return 1;
}

var markdown = ApiMarkdown.Generate(assembly, XDocument.Load(xmlPath));
if (check)
{
    var current = File.Exists(output) ? File.ReadAllText(output).ReplaceLineEndings("\n") : "";
    if (current == markdown)
    {
        Console.WriteLine($"{output} is up to date.");
        return 0;
    }

    Console.Error.WriteLine($"{output} is out of date; regenerate it with: {ApiMarkdown.RegenerateCommand}");
    return 1;
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
File.WriteAllText(output, markdown);
Console.WriteLine($"Wrote {output} ({markdown.Length} characters).");
return 0;
