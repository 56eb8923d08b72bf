using System.Globalization;

namespace PipelinesEcho;

/// <summary>Parses the options every baseline server shares: --port, --mode, --limit, --lifetime.</summary>
internal sealed record ServerArguments(int Port, bool LineMode, int Limit, double LifetimeSeconds)
{
    public static ServerArguments? Parse(string[] args)
    {
        int port = -1, limit = 1 << 20;
        var lineMode = true;
        double lifetime = 3600;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--port": port = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--mode" when value is "line" or "read": lineMode = value == "line"; break;
                case "--limit": limit = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--lifetime": lifetime = double.Parse(value, CultureInfo.InvariantCulture); break;
                default: return null;
            }
        }

        return port is >= 0 and <= 65535 && limit > 0 && lifetime > 0 && args.Length % 2 == 0
            ? new ServerArguments(port, lineMode, limit, lifetime)
            : null;
    }
}
