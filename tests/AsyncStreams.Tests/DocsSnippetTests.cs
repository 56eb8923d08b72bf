using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AsyncStreams.Tests;

/// <summary>
/// Every <c>```csharp</c> block of the guide and the README compiles against the built library, as a program of its own
/// in a project with the SDK's implicit usings (which import System.IO, the reason for the naming note).
/// </summary>
public class DocsSnippetTests
{
    // What <ImplicitUsings>enable</ImplicitUsings> imports in a console project.
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    // The base class library, the library and the logging packages a console project would reference;
    // the test host's own assemblies (ASP.NET Core, Roslyn, xunit) would only slow the compiler down.
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => IsSnippetReference(Path.GetFileName(p)))
            .Select(p => MetadataReference.CreateFromFile(p))]);

    // The guide's pages, and the README's quick start, which is the first code most users copy.
    public static TheoryData<string> Pages => [.. DocsRepository.GuidePages, "../README.md"];

    [Theory]
    [MemberData(nameof(Pages))]
    public void CSharpBlocks_InGuidePage_CompileAgainstLibrary(string page)
    {
        var failures = new List<string>();
        foreach (var (line, code) in DocsRepository.CodeBlocks(DocsRepository.Read(page), "csharp"))
        {
            foreach (var error in Compile(code))
                failures.Add($"docs/{page}:{line + error.Location.GetLineSpan().StartLinePosition.Line + 1}: {error.Id} {error.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        Assert.True(failures.Count == 0, "C# blocks that do not compile:\n" + string.Join("\n", failures));
    }

    [Fact]
    public void CSharpBlocks_WithoutNamingAlias_AreAmbiguousUnderImplicitUsings()
    {
        // The guide's advice holds: with implicit usings, AsyncStreams.StreamReader needs an alias.
        const string Code = """
            using AsyncStreams;

            static void Handle(StreamReader reader) { }
            """;

        Assert.Contains(Compile(Code), d => d.Id == "CS0104");
    }

    private static bool IsSnippetReference(string file) =>
        file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
        && (file.StartsWith("System.", StringComparison.Ordinal)
            || file is "mscorlib.dll" or "netstandard.dll" or "AsyncStreams.dll"
            || file.StartsWith("Microsoft.Win32.", StringComparison.Ordinal)
            || file.StartsWith("Microsoft.Extensions.Logging", StringComparison.Ordinal)
            || file.StartsWith("Microsoft.Extensions.Options", StringComparison.Ordinal)
            || file.StartsWith("Microsoft.Extensions.Primitives", StringComparison.Ordinal)
            || file.StartsWith("Microsoft.Extensions.DependencyInjection", StringComparison.Ordinal));

    private static IEnumerable<Diagnostic> Compile(string code)
    {
        var options = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        var snippet = CSharpSyntaxTree.ParseText(code, options);
        var usings = CSharpSyntaxTree.ParseText(ImplicitUsings, options);
        var isProgram = snippet.GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [snippet, usings],
            References.Value,
            new CSharpCompilationOptions(isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics(TestContext.Current.CancellationToken)
            .Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree == snippet);
    }
}
