using System.Globalization;
using System.Net;

namespace AsyncStreams.Benchmarks.Harness;

/// <summary>
/// Parses <c>--name value</c> options and <c>--flag</c> switches. Unknown options are an error, so a typo
/// never silently measures something else than was asked.
/// </summary>
internal sealed class CliArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private CliArguments()
    {
    }

    /// <summary>Parses <paramref name="args"/>; the names in <paramref name="flags"/> take no value.</summary>
    public static CliArguments Parse(IReadOnlyList<string> args, params string[] flags)
    {
        var line = new CliArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{arg}'.");
            }

            var name = arg[2..];
            if (flags.Contains(name))
            {
                line._flags.Add(name);
            }
            else if (i + 1 < args.Count)
            {
                line._values[name] = args[++i];
            }
            else
            {
                throw new ArgumentException($"Option '{arg}' needs a value.");
            }
        }

        return line;
    }

    public bool Flag(string name)
    {
        _used.Add(name);
        return _flags.Contains(name);
    }

    public string? String(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var value) ? value : null;
    }

    public string String(string name, string defaultValue) => String(name) ?? defaultValue;

    public int Int(string name, int defaultValue) =>
        String(name) is { } value ? int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture) : defaultValue;

    public int? OptionalInt(string name) =>
        String(name) is { } value ? int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture) : null;

    public double Double(string name, double defaultValue) =>
        String(name) is { } value ? double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture) : defaultValue;

    /// <summary>Reads a host that must be a loopback address: benchmarks never leave this machine.</summary>
    public IPAddress LoopbackAddress(string name)
    {
        var text = String(name, "127.0.0.1");
        if (!IPAddress.TryParse(text, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"--{name} must be a loopback address (127.0.0.0/8 or ::1), not '{text}'.");
        }

        return address;
    }

    /// <summary>Throws if an option was given that no code asked for.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Concat(_flags).Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
        }
    }
}
