using System.Globalization;
using System.Text;

namespace EchoServer;

/// <summary>Formats received bytes the way Python's <c>repr()</c> shows a decoded message: quoted, control characters escaped.</summary>
internal static class Repr
{
    /// <summary>Decodes <paramref name="data"/> as UTF-8 and returns it quoted, with control characters escaped.</summary>
    public static string Of(ReadOnlySpan<byte> data)
    {
        var text = Encoding.UTF8.GetString(data);
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder(text.Length + 2).Append(quote);
        foreach (var c in text)
        {
            switch (c)
            {
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\\': sb.Append("\\\\"); break;
                default:
                    if (c == quote)
                        sb.Append('\\').Append(c);
                    else if (char.IsControl(c))
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }

        return sb.Append(quote).ToString();
    }
}
