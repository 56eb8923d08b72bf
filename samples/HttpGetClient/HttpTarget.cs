using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace HttpGetClient;

/// <summary>What a URL says about the request to make: where to connect, whether to use TLS, what to ask for.</summary>
internal sealed record HttpTarget(string Host, int Port, bool UseTls, string HostHeader, string PathAndQuery)
{
    /// <summary>Parses an absolute http:// or https:// URL; returns false with the reason when it is not one.</summary>
    public static bool TryParse(string url, [NotNullWhen(true)] out HttpTarget? target, [NotNullWhen(false)] out string? reason)
    {
        target = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            reason = $"invalid URL '{url}': expected http://host[:port]/path or https://host[:port]/path";
            return false;
        }

        var useTls = uri.Scheme == Uri.UriSchemeHttps;
        if (!useTls && uri.Scheme != Uri.UriSchemeHttp)
        {
            reason = $"invalid URL '{url}': scheme '{uri.Scheme}' is not supported, only http and https";
            return false;
        }

        if (uri.UserInfo.Length != 0)
        {
            reason = $"invalid URL '{url}': user names and passwords in URLs are not supported";
            return false;
        }

        // IdnHost is what DNS and TLS name checks expect: punycode for international names, and IPv6
        // literals without their brackets. The Host header keeps the brackets and omits a default port.
        var host = uri.IdnHost;
        var headerHost = uri.HostNameType == UriHostNameType.IPv6 ? $"[{host}]" : host;
        if (!uri.IsDefaultPort)
            headerHost = $"{headerHost}:{uri.Port}";

        target = new HttpTarget(host, uri.Port, useTls, headerHost, uri.PathAndQuery);
        reason = null;
        return true;
    }

    /// <summary>Builds the HTTP/1.1 GET request for this target; the connection closes after the response.</summary>
    public byte[] BuildRequest() => Encoding.ASCII.GetBytes(
        $"GET {PathAndQuery} HTTP/1.1\r\n" +
        $"Host: {HostHeader}\r\n" +
        "User-Agent: AsyncStreams-HttpGetClient/1.0\r\n" +
        "Accept: */*\r\n" +
        "Connection: close\r\n" +
        "\r\n");
}
