using System.Reflection;
using System.Text;

namespace ApiDocGen;

/// <summary>
/// Computes the documentation comment IDs the C# compiler writes into the XML documentation file
/// (<c>T:</c>, <c>M:</c>, <c>P:</c>, <c>F:</c>, <c>E:</c>), so reflection members can be matched to their docs.
/// </summary>
internal static class DocumentationIds
{
    /// <summary>Returns the ID of a type, e.g. <c>T:AsyncStreams.StreamReader</c>.</summary>
    public static string Of(Type type) => "T:" + TypeName(type);

    /// <summary>Returns the ID of a member, e.g. <c>M:AsyncStreams.StreamReader.ReadAsync(System.Int32,System.Threading.CancellationToken)</c>.</summary>
    public static string Of(MemberInfo member)
    {
        var owner = TypeName(member.DeclaringType!);
        switch (member)
        {
            case Type nested:
                return Of(nested);
            case FieldInfo field:
                return $"F:{owner}.{field.Name}";
            case EventInfo e:
                return $"E:{owner}.{e.Name}";
            case PropertyInfo property:
                var indexParameters = property.GetIndexParameters();
                return $"P:{owner}.{property.Name}" + (indexParameters.Length == 0 ? "" : Parameters(indexParameters));
            case MethodBase method:
                var name = method switch
                {
                    ConstructorInfo { IsStatic: true } => "#cctor",
                    ConstructorInfo => "#ctor",
                    _ => method.Name,
                };
                var sb = new StringBuilder().Append("M:").Append(owner).Append('.').Append(name);
                if (method.IsGenericMethodDefinition)
                    sb.Append("``").Append(method.GetGenericArguments().Length);
                var parameters = method.GetParameters();
                if (parameters.Length != 0)
                    sb.Append(Parameters(parameters));
                if (method is MethodInfo { Name: "op_Implicit" or "op_Explicit" } conversion)
                    sb.Append('~').Append(ParameterTypeName(conversion.ReturnType));
                return sb.ToString();
            default:
                throw new ArgumentException($"Unsupported member kind {member.MemberType}.", nameof(member));
        }
    }

    private static string Parameters(ParameterInfo[] parameters) =>
        "(" + string.Join(",", parameters.Select(p => ParameterTypeName(p.ParameterType))) + ")";

    // A type's own name in an ID: namespace, outer types joined by '.', and `N for generic arity.
    private static string TypeName(Type type)
    {
        var name = type.Name;
        if (type.IsNested)
            return TypeName(type.DeclaringType!) + "." + name;
        return string.IsNullOrEmpty(type.Namespace) ? name : type.Namespace + "." + name;
    }

    // A type used in a parameter list: generic arguments in braces, `N / ``N for type parameters.
    private static string ParameterTypeName(Type type)
    {
        if (type.IsByRef)
            return ParameterTypeName(type.GetElementType()!) + "@";
        if (type.IsPointer)
            return ParameterTypeName(type.GetElementType()!) + "*";
        if (type.IsArray)
        {
            var rank = type.GetArrayRank();
            var suffix = type.IsSZArray ? "[]" : "[" + string.Join(",", Enumerable.Repeat("0:", rank)) + "]";
            return ParameterTypeName(type.GetElementType()!) + suffix;
        }

        if (type.IsGenericParameter)
            return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition;

        if (!type.IsGenericType)
            return TypeName(type);

        // Generic arguments of nested generic types belong to the type that declares them.
        var arguments = new Queue<Type>(type.GetGenericArguments());
        return GenericName(type.GetGenericTypeDefinition(), arguments);
    }

    private static string GenericName(Type definition, Queue<Type> arguments)
    {
        var prefix = definition.IsNested
            ? GenericName(definition.DeclaringType!, arguments) + "."
            : string.IsNullOrEmpty(definition.Namespace) ? "" : definition.Namespace + ".";
        var name = definition.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick < 0)
            return prefix + name;

        var count = int.Parse(name.AsSpan(tick + 1), System.Globalization.CultureInfo.InvariantCulture);
        var own = Enumerable.Range(0, count).Select(_ => ParameterTypeName(arguments.Dequeue()));
        return prefix + name[..tick] + "{" + string.Join(",", own) + "}";
    }
}
