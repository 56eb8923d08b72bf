using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ApiDocGen;

/// <summary>Turns the content of an XML documentation element (summary, remarks, param...) into one Markdown paragraph block.</summary>
internal sealed partial class XmlDocText
{
    private readonly Func<string, string?> _anchorOf;

    /// <summary>Creates the converter; <paramref name="anchorOf"/> maps a cref to an in-page anchor, or null for none.</summary>
    public XmlDocText(Func<string, string?> anchorOf) => _anchorOf = anchorOf;

    /// <summary>Converts the element's content; null or empty content gives an empty string.</summary>
    public string Convert(XElement? element)
    {
        if (element is null)
            return "";
        var sb = new StringBuilder();
        AppendNodes(sb, element.Nodes());
        return Tidy(sb.ToString());
    }

    /// <summary>Returns the short display name of a cref, e.g. <c>StreamWriter.DrainAsync</c> for a method ID.</summary>
    public static string ShortName(string cref)
    {
        var colon = cref.IndexOf(':', StringComparison.Ordinal);
        var kind = colon == 1 ? cref[0] : 'T';
        var name = colon == 1 ? cref[2..] : cref;
        var paren = name.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
            name = name[..paren];
        name = GenericArity().Replace(name, "");
        var parts = name.Split('.');
        var keep = kind is 'T' or '!' or 'N' ? 1 : 2;
        return string.Join('.', parts.Skip(Math.Max(0, parts.Length - keep))).Replace("#ctor", "constructor", StringComparison.Ordinal);
    }

    private void AppendNodes(StringBuilder sb, IEnumerable<XNode> nodes)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case XText text:
                    sb.Append(Whitespace().Replace(text.Value, " "));
                    break;
                case XElement e:
                    AppendElement(sb, e);
                    break;
            }
        }
    }

    private void AppendElement(StringBuilder sb, XElement e)
    {
        switch (e.Name.LocalName)
        {
            case "see" or "seealso":
                AppendReference(sb, e);
                break;
            case "paramref" or "typeparamref":
                sb.Append('`').Append((string?)e.Attribute("name")).Append('`');
                break;
            case "c":
                sb.Append('`').Append(Whitespace().Replace(e.Value, " ").Trim()).Append('`');
                break;
            case "code":
                sb.Append("\n\n```csharp\n").Append(Dedent(e.Value)).Append("\n```\n\n");
                break;
            case "para":
                sb.Append("\n\n");
                AppendNodes(sb, e.Nodes());
                sb.Append("\n\n");
                break;
            case "br":
                sb.Append('\n');
                break;
            case "list":
                sb.Append("\n\n");
                var numbered = (string?)e.Attribute("type") == "number";
                var index = 1;
                foreach (var item in e.Elements("item"))
                {
                    sb.Append(numbered ? $"{index++}. " : "- ");
                    var itemText = new StringBuilder();
                    AppendNodes(itemText, (item.Element("description") ?? item).Nodes());
                    sb.Append(Whitespace().Replace(itemText.ToString(), " ").Trim()).Append('\n');
                }

                sb.Append('\n');
                break;
            default:
                AppendNodes(sb, e.Nodes());
                break;
        }
    }

    private void AppendReference(StringBuilder sb, XElement e)
    {
        if ((string?)e.Attribute("langword") is { } keyword)
        {
            sb.Append('`').Append(keyword).Append('`');
            return;
        }

        if ((string?)e.Attribute("href") is { } href)
        {
            sb.Append('[').Append(e.Value.Length == 0 ? href : e.Value).Append("](").Append(href).Append(')');
            return;
        }

        var cref = (string?)e.Attribute("cref") ?? "";
        var label = e.Value.Length != 0 ? e.Value : "`" + ShortName(cref) + "`";
        sb.Append(_anchorOf(cref) is { } anchor ? $"[{label}](#{anchor})" : label);
    }

    private static string Dedent(string code)
    {
        var lines = code.Trim('\n', '\r').Split('\n').Select(l => l.TrimEnd()).ToList();
        var indent = lines.Where(l => l.Length != 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l));
    }

    // Collapses the XML file's indentation and runs of blank lines, keeping the paragraph breaks the
    // elements produced and the indentation inside code blocks.
    private static string Tidy(string text)
    {
        var lines = new List<string>();
        var inCode = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = inCode ? raw.TrimEnd() : raw.Trim();
            if (line.StartsWith("```", StringComparison.Ordinal))
                inCode = !inCode;
            if (line.Length == 0 && !inCode && (lines.Count == 0 || lines[^1].Length == 0))
                continue;
            lines.Add(line);
        }

        while (lines.Count != 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        return string.Join('\n', lines);
    }

    [GeneratedRegex(@"[ \t\r\n]+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"`+\d+")]
    private static partial Regex GenericArity();
}
