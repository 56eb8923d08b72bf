using System.Globalization;
using System.Text.Json;
using AsyncStreams.Benchmarks.Harness;
using Microsoft.Diagnostics.Runtime;

namespace AsyncStreams.Benchmarks.Scenarios;

/// <summary>One type's share of a live heap: how many objects, and their bytes.</summary>
internal sealed record HeapTypeCount(string Type, long Count, long Bytes);

/// <summary>
/// Heap census: the objects a running .NET process holds live (reachable from its roots), grouped by type, read from
/// a snapshot of the process (the process is paused only while the snapshot is taken). Against a census saved
/// earlier, and divided by <c>--per</c>, it says what each added unit costs: run it on a server once with a few
/// warm-up connections and once with N more idle ones, and it splits the idle-memory figure by type.
/// </summary>
internal static class HeapCensus
{
    public const string Usage = "heap --pid PID [--top 30] [--save FILE] [--baseline FILE] [--per 1]";

    public static int Run(CliArguments line)
    {
        var pid = line.OptionalInt("pid") ?? throw new ArgumentException("--pid is required.");
        var top = line.Int("top", 30);
        var save = line.String("save");
        var baseline = line.String("baseline");
        var per = line.Int("per", 1);
        line.RejectUnknown();
        if (top < 1 || per < 1)
        {
            throw new ArgumentException("--top and --per must be positive.");
        }

        var census = Take(pid);
        if (save is not null)
        {
            File.WriteAllText(save, JsonSerializer.Serialize(census));
        }

        var before = baseline is null ? [] : JsonSerializer.Deserialize<List<HeapTypeCount>>(File.ReadAllText(baseline)) ?? [];
        Console.Write(Format(Difference(before, census), top, per));
        return 0;
    }

    /// <summary>Counts the live objects of process <paramref name="pid"/> by type, largest total first.</summary>
    public static List<HeapTypeCount> Take(int pid)
    {
        using var target = DataTarget.CreateSnapshotAndAttach(pid);
        using var runtime = target.ClrVersions[0].CreateRuntime();
        var heap = runtime.Heap;
        var seen = new HashSet<ulong>();
        var pending = new Stack<ClrObject>();
        foreach (var root in heap.EnumerateRoots())
        {
            if (root.Object.IsValid && seen.Add(root.Object.Address))
            {
                pending.Push(root.Object);
            }
        }

        var totals = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
        while (pending.TryPop(out var live))
        {
            var name = live.Type?.Name ?? "(unknown type)";
            totals.TryGetValue(name, out var total);
            totals[name] = (total.Count + 1, total.Bytes + (long)live.Size);
            foreach (var reference in live.EnumerateReferences(carefully: true))
            {
                if (reference.IsValid && seen.Add(reference.Address))
                {
                    pending.Push(reference);
                }
            }
        }

        return [.. totals.Select(t => new HeapTypeCount(t.Key, t.Value.Count, t.Value.Bytes)).OrderByDescending(t => t.Bytes)];
    }

    /// <summary>What <paramref name="after"/> holds beyond <paramref name="before"/>, type by type, largest growth first.</summary>
    public static List<HeapTypeCount> Difference(IReadOnlyList<HeapTypeCount> before, IReadOnlyList<HeapTypeCount> after)
    {
        var change = after.ToDictionary(t => t.Type, t => (t.Count, t.Bytes), StringComparer.Ordinal);
        foreach (var e in before)
        {
            change.TryGetValue(e.Type, out var now);
            change[e.Type] = (now.Count - e.Count, now.Bytes - e.Bytes);
        }

        return [.. change
            .Where(t => t.Value.Count != 0 || t.Value.Bytes != 0)
            .Select(t => new HeapTypeCount(t.Key, t.Value.Count, t.Value.Bytes))
            .OrderByDescending(t => t.Bytes)];
    }

    /// <summary>A table of the <paramref name="top"/> largest rows, counts and bytes divided by <paramref name="per"/>, and the total.</summary>
    public static string Format(IReadOnlyList<HeapTypeCount> rows, int top, int per)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"objects",12} {"bytes",14}  type (per {per})");
        foreach (var row in rows.Take(top))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{row.Count / (double)per,12:0.##} {row.Bytes / (double)per,14:0.#}  {row.Type}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"{rows.Sum(r => r.Count) / (double)per,12:0.##} {rows.Sum(r => r.Bytes) / (double)per,14:0.#}  total of {rows.Count} types");
        return text.ToString();
    }
}
