using System.Reflection;

namespace AsyncStreams.Tests;

/// <summary>The guide (docs/ without the generated reference) explains every public type and member at least once.</summary>
public class DocsCoverageTests
{
    [Fact]
    public void GuidePages_EveryPublicTypeAndMember_IsMentioned()
    {
        var guide = string.Join("\n", DocsRepository.GuidePages.Select(DocsRepository.Read));
        var missing = new List<string>();
        foreach (var type in typeof(Streams).Assembly.GetExportedTypes())
        {
            if (!guide.Contains(type.Name, StringComparison.Ordinal))
                missing.Add(type.Name);

            var members = type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => m is not ConstructorInfo && !(m is MethodInfo { IsSpecialName: true }))
                .Select(m => m.Name)
                .Distinct(StringComparer.Ordinal);

            // A member counts as mentioned when it appears as code: `Name, .Name or Name( .
            foreach (var name in members)
            {
                if (!guide.Contains("`" + name, StringComparison.Ordinal)
                    && !guide.Contains("." + name, StringComparison.Ordinal)
                    && !guide.Contains(name + "(", StringComparison.Ordinal))
                {
                    missing.Add($"{type.Name}.{name}");
                }
            }
        }

        Assert.True(missing.Count == 0, "Not mentioned anywhere in the guide: " + string.Join(", ", missing));
    }
}
