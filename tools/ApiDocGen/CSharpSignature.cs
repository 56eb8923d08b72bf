using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace ApiDocGen;

/// <summary>Formats types and members as the C# declarations a user would write, with nullable annotations and tuple names.</summary>
internal sealed class CSharpSignature
{
    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void", [typeof(object)] = "object", [typeof(string)] = "string", [typeof(bool)] = "bool",
        [typeof(byte)] = "byte", [typeof(sbyte)] = "sbyte", [typeof(char)] = "char", [typeof(short)] = "short",
        [typeof(ushort)] = "ushort", [typeof(int)] = "int", [typeof(uint)] = "uint", [typeof(long)] = "long",
        [typeof(ulong)] = "ulong", [typeof(float)] = "float", [typeof(double)] = "double", [typeof(decimal)] = "decimal",
        [typeof(nint)] = "nint", [typeof(nuint)] = "nuint",
    };

    private const int MaxLineLength = 100;

    private readonly NullabilityInfoContext _nullability = new();

    /// <summary>Returns the declaration line of a type, e.g. <c>public sealed class StreamWriter : IAsyncDisposable</c>.</summary>
    public string Declaration(Type type)
    {
        var sb = new StringBuilder(type.IsPublic || type.IsNestedPublic ? "public " : "protected ");
        if (type.IsEnum)
            return sb.Append("enum ").Append(type.Name).Append(" : ").Append(Name(Enum.GetUnderlyingType(type))).ToString();
        if (type.IsInterface)
            sb.Append("interface ");
        else if (type.IsValueType)
            sb.Append(type.IsDefined(typeof(IsReadOnlyAttribute)) ? "readonly struct " : "struct ");
        else if (type.IsSubclassOf(typeof(Delegate)))
            return sb.Append("delegate ").Append(Method(type.GetMethod("Invoke")!, type.Name, includeModifiers: false)).ToString();
        else
            sb.Append(type is { IsAbstract: true, IsSealed: true } ? "static " : type.IsAbstract ? "abstract " : type.IsSealed ? "sealed " : "")
              .Append("class ");

        sb.Append(Name(type));
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType))
            bases.Add(Name(baseType));

        // Only the interfaces the type adds itself, not those its base type already brings.
        var inherited = type.BaseType?.GetInterfaces() ?? [];
        var own = type.GetInterfaces().Where(i => !inherited.Contains(i) && i.IsVisible).ToList();
        own.RemoveAll(i => own.Any(other => other != i && other.GetInterfaces().Contains(i)));
        bases.AddRange(own.Select(Name).Order(StringComparer.Ordinal));
        if (bases.Count != 0)
            sb.Append(" : ").Append(string.Join(", ", bases));
        return sb.ToString();
    }

    /// <summary>Returns the declaration of a member, ending with a semicolon or accessor list.</summary>
    public string Declaration(MemberInfo member) => member switch
    {
        ConstructorInfo ctor => Method(ctor, ctor.DeclaringType!.Name, includeModifiers: true) + ";",
        MethodInfo method => Method(method, method.Name, includeModifiers: true) + ";",
        PropertyInfo property => Property(property),
        FieldInfo field => Field(field),
        EventInfo e => $"{Access(e.AddMethod!)}{(e.AddMethod!.IsStatic ? "static " : "")}event {Name(e.EventHandlerType!, _nullability.Create(e))} {e.Name};",
        _ => throw new ArgumentException($"Unsupported member kind {member.MemberType}.", nameof(member)),
    };

    /// <summary>Returns the C# name of a type without nullable annotations, e.g. <c>Func&lt;StreamReader, StreamWriter, Task&gt;</c>.</summary>
    public static string Name(Type type) => Name(type, null);

    private string Property(PropertyInfo property)
    {
        var getter = property.GetMethod is { } g && IsVisible(g) ? g : null;
        var setter = property.SetMethod is { } s && IsVisible(s) ? s : null;
        var accessor = (getter ?? setter)!;
        var sb = new StringBuilder(Access(accessor)).Append(Modifiers(accessor))
            .Append(Name(property.PropertyType, _nullability.Create(property))).Append(' ');
        var index = property.GetIndexParameters();
        sb.Append(index.Length == 0 ? property.Name : $"this[{string.Join(", ", index.Select(Parameter))}]");
        sb.Append(" { ");
        if (getter is not null)
            sb.Append("get; ");
        if (setter is not null)
        {
            var isInit = setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));
            sb.Append(isInit ? "init; " : "set; ");
        }

        return sb.Append('}').ToString();
    }

    private string Field(FieldInfo field)
    {
        var sb = new StringBuilder(field.IsPublic ? "public " : "protected ");
        var type = Name(field.FieldType, _nullability.Create(field));
        if (field.IsLiteral)
            return sb.Append("const ").Append(type).Append(' ').Append(field.Name).Append(" = ").Append(Literal(field.GetRawConstantValue(), field.FieldType)).Append(';').ToString();
        if (field.IsStatic)
            sb.Append("static ");
        if (field.IsInitOnly)
            sb.Append("readonly ");
        return sb.Append(type).Append(' ').Append(field.Name).Append(';').ToString();
    }

    private string Method(MethodBase method, string name, bool includeModifiers)
    {
        var sb = new StringBuilder();
        if (includeModifiers)
            sb.Append(Access(method)).Append(Modifiers(method));
        if (method is MethodInfo info)
            sb.Append(Name(info.ReturnType, _nullability.Create(info.ReturnParameter), info.ReturnParameter)).Append(' ');
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        sb.Append(tick < 0 ? name : name[..tick]);
        if (method.IsGenericMethodDefinition)
            sb.Append('<').Append(string.Join(", ", method.GetGenericArguments().Select(a => a.Name))).Append('>');
        var isExtension = method.IsDefined(typeof(ExtensionAttribute));
        var parameters = method.GetParameters().Select((p, i) => (isExtension && i == 0 ? "this " : "") + Parameter(p)).ToList();
        var oneLine = string.Join(", ", parameters);

        // Long parameter lists get one parameter per line, as they would be written in source.
        return sb.Length + oneLine.Length > MaxLineLength
            ? sb.Append("(\n    ").Append(string.Join(",\n    ", parameters)).Append(')').ToString()
            : sb.Append('(').Append(oneLine).Append(')').ToString();
    }

    private string Parameter(ParameterInfo parameter)
    {
        var sb = new StringBuilder();
        var type = parameter.ParameterType;
        if (type.IsByRef)
        {
            sb.Append(parameter.IsOut ? "out " : parameter.IsIn ? "in " : "ref ");
            type = type.GetElementType()!;
        }

        if (parameter.IsDefined(typeof(ParamArrayAttribute)))
            sb.Append("params ");
        sb.Append(Name(type, _nullability.Create(parameter), parameter)).Append(' ').Append(parameter.Name);
        if (parameter.HasDefaultValue)
            sb.Append(" = ").Append(Literal(parameter.RawDefaultValue, type));
        return sb.ToString();
    }

    private static string Name(Type type, NullabilityInfo? nullability, ParameterInfo? tupleNamesSource = null)
    {
        var names = tupleNamesSource?.GetCustomAttributes(typeof(TupleElementNamesAttribute), false)
            .OfType<TupleElementNamesAttribute>().FirstOrDefault()?.TransformNames;
        var next = 0;
        return Format(type, nullability, names, ref next);
    }

    private static string Format(Type type, NullabilityInfo? nullability, IList<string?>? tupleNames, ref int nextName)
    {
        if (type.IsByRef)
            return Format(type.GetElementType()!, nullability, tupleNames, ref nextName);
        if (type.IsArray)
        {
            var element = Format(type.GetElementType()!, nullability?.ElementType, tupleNames, ref nextName);
            return element + "[" + new string(',', type.GetArrayRank() - 1) + "]" + Annotation(nullability);
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return Format(underlying, nullability?.GenericTypeArguments.FirstOrDefault(), tupleNames, ref nextName) + "?";

        if (Keywords.TryGetValue(type, out var keyword))
            return keyword + Annotation(nullability);

        if (type.IsGenericParameter)
            return type.Name + Annotation(nullability);

        var arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        if (type.IsGenericType && type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true && arguments.Length <= 7)
        {
            // Tuple element names are listed depth first, the outer tuple's own names before those of nested tuples.
            var own = Enumerable.Range(nextName, arguments.Length).Select(i => tupleNames is not null && i < tupleNames.Count ? tupleNames[i] : null).ToList();
            nextName += arguments.Length;
            var elements = new List<string>(arguments.Length);
            for (var i = 0; i < arguments.Length; i++)
            {
                var element = Format(arguments[i], nullability?.GenericTypeArguments.ElementAtOrDefault(i), tupleNames, ref nextName);
                elements.Add(own[i] is { } elementName ? element + " " + elementName : element);
            }

            return "(" + string.Join(", ", elements) + ")";
        }

        var name = type.IsNested ? Format(type.DeclaringType!, null, null, ref nextName) + "." + type.Name : type.Name;
        var tick = name.LastIndexOf('`');
        if (tick >= 0)
            name = name[..tick];
        if (arguments.Length != 0)
        {
            var formatted = new List<string>(arguments.Length);
            for (var i = 0; i < arguments.Length; i++)
                formatted.Add(Format(arguments[i], nullability?.GenericTypeArguments.ElementAtOrDefault(i), tupleNames, ref nextName));
            name += "<" + string.Join(", ", formatted) + ">";
        }

        return name + Annotation(nullability);
    }

    private static string Annotation(NullabilityInfo? nullability) =>
        nullability is { Type.IsValueType: false, ReadState: NullabilityState.Nullable } ? "?" : "";

    private static string Literal(object? value, Type type) => value switch
    {
        null => type.IsValueType && Nullable.GetUnderlyingType(type) is null ? "default" : "null",
        bool b => b ? "true" : "false",
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        char c => "'" + c + "'",
        _ when type.IsEnum => type.Name + "." + Enum.GetName(type, value),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static string Access(MethodBase method) => method.IsPublic ? "public " : "protected ";

    private static string Modifiers(MethodBase method)
    {
        if (method.IsStatic)
            return "static ";
        if (method is not MethodInfo info || !method.IsVirtual || method.DeclaringType!.IsInterface)
            return "";
        if (method.IsAbstract)
            return "abstract ";
        var isOverride = info.GetBaseDefinition().DeclaringType != info.DeclaringType;
        if (isOverride)
            return method.IsFinal ? "sealed override " : "override ";
        return method.IsFinal ? "" : "virtual ";
    }
}
