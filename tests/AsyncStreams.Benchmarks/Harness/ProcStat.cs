using System.Diagnostics;
using System.Globalization;

namespace AsyncStreams.Benchmarks.Harness;

/// <summary>
/// Reads a process's CPU time and memory from /proc. CPU time is utime + stime of the whole thread group
/// (threads that already exited included), in clock ticks of 1/CLK_TCK seconds.
/// </summary>
internal static class ProcStat
{
    private static readonly Lazy<double> TicksPerSecond = new(ReadClockTicks);

    /// <summary>Returns the user + system CPU seconds the process has used so far.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond.Value;
    }

    /// <summary>
    /// Returns the busy CPU seconds of the whole machine so far (user, nice, system, irq, softirq and steal
    /// time of every CPU, from /proc/stat). Over a window, this minus the server's and the client's CPU time
    /// is what everything else on the machine used: the noise in that window.
    /// </summary>
    public static double MachineBusySeconds()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long busy = 0;
        foreach (var index in new[] { 1, 2, 3, 6, 7, 8 })
        {
            busy += long.Parse(fields[index], CultureInfo.InvariantCulture);
        }

        return busy / TicksPerSecond.Value;
    }

    /// <summary>Returns the resident set size in bytes (VmRSS).</summary>
    public static long RssBytes(int pid) => StatusKilobytes(pid, "VmRSS:") * 1024;

    /// <summary>
    /// Returns the resident anonymous memory in bytes (RssAnon): the heaps, managed and native, without the code and
    /// data pages mapped from files (shared libraries, assemblies) or shared memory (the JIT's code mappings).
    /// </summary>
    public static long AnonymousBytes(int pid) => StatusKilobytes(pid, "RssAnon:") * 1024;

    /// <summary>Returns the peak resident set size in bytes since the process started (VmHWM).</summary>
    public static long PeakRssBytes(int pid) => StatusKilobytes(pid, "VmHWM:") * 1024;

    /// <summary>Returns whether the process still exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[stat.LastIndexOf(')') + 2];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long StatusKilobytes(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var value = line[key.Length..].Trim();
                return long.Parse(value[..value.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidDataException($"/proc/{pid}/status has no {key} line.");
    }

    private static double ReadClockTicks()
    {
        using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("Cannot start getconf.");
        var text = getconf.StandardOutput.ReadToEnd().Trim();
        getconf.WaitForExit(5000);
        return double.Parse(text, CultureInfo.InvariantCulture);
    }
}
