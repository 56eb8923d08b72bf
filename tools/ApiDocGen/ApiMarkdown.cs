using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Xml.Linq;

namespace ApiDocGen;

/// <summary>Renders the public API of an assembly and its XML documentation as one Markdown page.</summary>
internal static class ApiMarkdown
{
    /// <summary>The command, run from the repository root, that regenerates the committed page.</summary>
    public const string RegenerateCommand = "dotnet run --project tools/ApiDocGen -- docs/api.md";

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Generates the page for every public type of <paramref name="assembly"/>, documented from <paramref name="documentation"/>.</summary>
    public static string Generate(Assembly assembly, XDocument documentation)
    {
        var members = (documentation.Root?.Element("members")?.Elements("member") ?? [])
            .Where(m => m.Attribute("name") is not null)
            .GroupBy(m => (string)m.Attribute("name")!)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var types = assembly.GetExportedTypes()
            .Where(t => !t.IsDefined(typeof(CompilerGeneratedAttribute)))
            .OrderBy(t => t.Namespace, StringComparer.Ordinal)
            .ThenBy(DisplayName, StringComparer.Ordinal)
            .ToList();
        var anchors = types.ToDictionary(DocumentationIds.Of, t => Anchor(DisplayName(t)), StringComparer.Ordinal);
        var page = new Page(members, new XmlDocText(cref => AnchorOf(cref, anchors)), new CSharpSignature());

        var sb = new StringBuilder();
        sb.Append("# API reference\n\n")
          .Append("<!-- Generated from the built assembly and its XML documentation by `").Append(RegenerateCommand)
          .Append("`. Do not edit by hand: the test suite fails when this page and the code disagree. -->\n\n")
          .Append("Every public type and member of the ").Append(assembly.GetName().Name)
          .Append(" package, with its documentation. The [guide](index.md) explains how they fit together, and the ")
          .Append("[asyncio mapping](asyncio-mapping.md) lists the asyncio name of each.\n\n");

        foreach (var ns in types.GroupBy(t => t.Namespace ?? "", StringComparer.Ordinal))
        {
            sb.Append("Namespace `").Append(ns.Key).Append("`:\n\n| Type | Summary |\n| --- | --- |\n");
            foreach (var type in ns)
                sb.Append("| [`").Append(DisplayName(type)).Append("`](#").Append(anchors[DocumentationIds.Of(type)]).Append(") | ")
                  .Append(Cell(page.Text(page.Doc(type), "summary"))).Append(" |\n");
            sb.Append('\n');
        }

        foreach (var type in types)
            page.AppendType(sb, type);

        return sb.ToString().TrimEnd('\n') + "\n";
    }

    private static string DisplayName(Type type) =>
        (type.IsNested ? DisplayName(type.DeclaringType!) + "." : "") + CSharpSignature.Name(type).Split('.').Last();

    // GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
    private static string Anchor(string heading) =>
        new string(heading.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-');

    private static string? AnchorOf(string cref, Dictionary<string, string> anchors)
    {
        if (cref.Length < 2 || cref[1] != ':')
            return null;
        var name = cref[2..];
        var paren = name.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
            name = name[..paren];

        // A member links to its type's section: the longest documented type name that prefixes it.
        for (var id = "T:" + name; ; id = id[..id.LastIndexOf('.')])
        {
            if (anchors.TryGetValue(id, out var anchor))
                return anchor;
            if (id.LastIndexOf('.') < 2)
                return null;
        }
    }

    private static string Cell(string text) =>
        text.Replace("\n\n", " ", StringComparison.Ordinal).Replace('\n', ' ').Replace("|", "\\|", StringComparison.Ordinal);

    private sealed class Page(Dictionary<string, XElement> members, XmlDocText text, CSharpSignature signatures)
    {
        public XElement? Doc(Type type) => members.GetValueOrDefault(DocumentationIds.Of(type));

        public XElement? Doc(MemberInfo member)
        {
            var doc = members.GetValueOrDefault(DocumentationIds.Of(member));
            if (doc?.Element("inheritdoc") is not { } inherit)
                return doc;

            // <inheritdoc/> takes the docs of the member named by cref, else of the overridden or implemented one.
            var source = (string?)inherit.Attribute("cref") ?? InheritedFrom(member);
            return source is not null && members.TryGetValue(source, out var inherited) ? inherited : doc;
        }

        public string Text(XElement? doc, string element) => text.Convert(doc?.Element(element));

        public void AppendType(StringBuilder sb, Type type)
        {
            var doc = Doc(type);
            sb.Append("## ").Append(DisplayName(type)).Append("\n\n```csharp\n").Append(signatures.Declaration(type)).Append("\n```\n\n");
            AppendDocs(sb, doc, type);

            var all = type.GetMembers(Declared).Where(IsDocumentable).ToList();
            AppendGroup(sb, "Constructors", all.OfType<ConstructorInfo>());
            AppendGroup(sb, type.IsEnum ? "Values" : "Fields", all.OfType<FieldInfo>());
            AppendGroup(sb, "Properties", all.OfType<PropertyInfo>());
            AppendGroup(sb, "Methods", all.OfType<MethodInfo>());
            AppendGroup(sb, "Events", all.OfType<EventInfo>());
        }

        private void AppendGroup(StringBuilder sb, string title, IEnumerable<MemberInfo> group)
        {
            var ordered = group.Select(m => (Member: m, Signature: signatures.Declaration(m)))
                .OrderBy(m => m.Member.Name, StringComparer.Ordinal)
                .ThenBy(m => m.Signature, StringComparer.Ordinal)
                .ToList();
            if (ordered.Count == 0)
                return;

            sb.Append("### ").Append(title).Append("\n\n");
            foreach (var (member, signature) in ordered)
            {
                var owner = DisplayName(member.DeclaringType!);
                sb.Append("#### ").Append(member is ConstructorInfo ? "new " + owner : owner + "." + member.Name)
                  .Append("\n\n```csharp\n").Append(signature).Append("\n```\n\n");
                AppendDocs(sb, Doc(member), member);
            }
        }

        private void AppendDocs(StringBuilder sb, XElement? doc, MemberInfo member)
        {
            var summary = Text(doc, "summary");
            if (summary.Length == 0 && member is ConstructorInfo { IsStatic: false } ctor && ctor.GetParameters().Length == 0)
            {
                // The parameterless constructor the compiler adds to an options class has no XML docs of its own.
                summary = "Creates an instance with every property at its default value.";
            }

            sb.Append(summary.Length == 0 ? "*(No documentation.)*" : summary).Append("\n\n");
            if (doc is null)
                return;

            var parameters = doc.Elements("typeparam").Select(p => ("Type parameter", p))
                .Concat(doc.Elements("param").Select(p => ("Parameter", p)))
                .ToList();
            if (parameters.Count != 0)
            {
                sb.Append("| Parameter | Description |\n| --- | --- |\n");
                foreach (var (_, p) in parameters)
                    sb.Append("| `").Append((string?)p.Attribute("name")).Append("` | ").Append(Cell(text.Convert(p))).Append(" |\n");
                sb.Append('\n');
            }

            AppendLabeled(sb, "Value", Text(doc, "value"));
            if (member is MethodInfo { ReturnType: var returnType } && returnType != typeof(void))
                AppendLabeled(sb, "Returns", Text(doc, "returns"));

            var exceptions = doc.Elements("exception").ToList();
            if (exceptions.Count != 0)
            {
                sb.Append("**Exceptions:**\n\n");
                foreach (var e in exceptions)
                    sb.Append("- `").Append(XmlDocText.ShortName((string?)e.Attribute("cref") ?? "")).Append("`: ")
                      .Append(text.Convert(e).Replace("\n\n", " ", StringComparison.Ordinal)).Append('\n');
                sb.Append('\n');
            }

            AppendLabeled(sb, "Remarks", Text(doc, "remarks"));
        }

        private static void AppendLabeled(StringBuilder sb, string label, string body)
        {
            if (body.Length != 0)
                sb.Append("**").Append(label).Append(":** ").Append(body).Append("\n\n");
        }

        private static bool IsDocumentable(MemberInfo member) => member switch
        {
            _ when member.IsDefined(typeof(CompilerGeneratedAttribute)) => false,
            MethodBase m => !m.IsSpecialName || m is ConstructorInfo { IsStatic: false } ? IsVisible(m) : m.Name.StartsWith("op_", StringComparison.Ordinal) && IsVisible(m),
            PropertyInfo p => (p.GetMethod is { } g && IsVisible(g)) || (p.SetMethod is { } s && IsVisible(s)),
            FieldInfo f => (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && !f.IsSpecialName,
            EventInfo e => e.AddMethod is { } add && IsVisible(add),
            _ => false,
        };

        private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

        private static string? InheritedFrom(MemberInfo member)
        {
            var method = member as MethodInfo ?? (member as PropertyInfo)?.GetMethod;
            if (method is null)
                return null;
            var baseDefinition = method.GetBaseDefinition();
            MethodInfo? source = baseDefinition != method ? baseDefinition : null;
            foreach (var contract in method.DeclaringType!.GetInterfaces())
            {
                var map = method.DeclaringType.GetInterfaceMap(contract);
                var index = Array.IndexOf(map.TargetMethods, method);
                if (index >= 0)
                    source ??= map.InterfaceMethods[index];
            }

            if (source is null)
                return null;
            return member is PropertyInfo property
                ? DocumentationIds.Of(source.DeclaringType!.GetProperty(property.Name)!)
                : DocumentationIds.Of(source);
        }
    }
}
