using System.Text.Json;
using Autograd;
using Autograd.Nn.Reference;

namespace Autograd.Tests.Golden;

/// <summary>A golden tensor: row-major values and their shape.</summary>
public sealed record GoldenTensor(int[] Shape, double[] Data)
{
    /// <summary>The element count.</summary>
    public int Length => Data.Length;

    /// <summary>The shape as text, e.g. <c>(2, 22, 5)</c>.</summary>
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";

    /// <summary>A new tensor holding these values converted to <typeparamref name="T"/>.</summary>
    public Tensor<T> ToTensor<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => Tensor.FromArray(Array.ConvertAll(Data, T.CreateChecked), Shape);
}

/// <summary>One layer of a golden case's stack.</summary>
/// <param name="Kind"><c>rnn</c>, <c>gru</c> or <c>lstm</c>, as in the json.</param>
public sealed record GoldenLayer(string Kind, int HiddenSize, int OutputSize)
{
    /// <summary>The reference cell kind for <see cref="Kind"/>.</summary>
    public ReferenceCellKind CellKind => Kind switch
    {
        "rnn" => ReferenceCellKind.Rnn,
        "gru" => ReferenceCellKind.Gru,
        "lstm" => ReferenceCellKind.Lstm,
        _ => throw new InvalidDataException($"Golden layer kind '{Kind}' is not rnn, gru or lstm."),
    };
}

/// <summary>
/// One PyTorch golden case from <c>&lt;repo root&gt;/../shared/data/golden/*.json</c> (see the README there):
/// a layer stack, its initial parameters, an input, <c>G</c> with loss = sum(output * G), and the expected
/// output, parameter gradients, input gradient and second-batch output (state carried from the first).
/// </summary>
public sealed class GoldenCase
{
    /// <summary>The name <see cref="CaseNames"/> yields when the golden folder is absent; loading it ignores the test.</summary>
    public const string MissingPlaceholder = "golden-folder-missing";

    private GoldenCase(string name) => Name = name;

    /// <summary>The file name without <c>.json</c>.</summary>
    public string Name { get; }

    /// <summary>The json's <c>generator</c> line.</summary>
    public string Generator { get; private set; } = "";

    /// <summary>The stack, first to last.</summary>
    public IReadOnlyList<GoldenLayer> Layers { get; private set; } = [];

    /// <summary>Parameter keys <c>layers.{i}.{name}</c> in file order.</summary>
    public IReadOnlyList<string> ParameterNames { get; private set; } = [];

    /// <summary>Initial parameter values by key.</summary>
    public IReadOnlyDictionary<string, GoldenTensor> Parameters { get; private set; } = new Dictionary<string, GoldenTensor>();

    /// <summary>First batch, (B, T, F).</summary>
    public GoldenTensor Input { get; private set; } = null!;

    /// <summary>Loss weights, (B, T, O): loss = sum(output * G), so d loss / d output = G.</summary>
    public GoldenTensor G { get; private set; } = null!;

    /// <summary>First-pass output from zero state, (B, T, O).</summary>
    public GoldenTensor Output { get; private set; } = null!;

    /// <summary>d loss / d parameter by key.</summary>
    public IReadOnlyDictionary<string, GoldenTensor> Gradients { get; private set; } = new Dictionary<string, GoldenTensor>();

    /// <summary>d loss / d input, (B, T, F).</summary>
    public GoldenTensor InputGradient { get; private set; } = null!;

    /// <summary>Second batch, (B, T, F).</summary>
    public GoldenTensor SecondInput { get; private set; } = null!;

    /// <summary>Second-pass output starting from the first pass's carried (batch-mean) state, (B, T, O).</summary>
    public GoldenTensor SecondOutput { get; private set; } = null!;

    /// <summary>The golden folder, or null when it is absent (e.g. a checkout without <c>../shared</c>).</summary>
    public static string? Directory
    {
        get
        {
            var root = FindRepoRoot();
            if (root is null) return null;
            var dir = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", "golden"));
            return System.IO.Directory.Exists(dir) ? dir : null;
        }
    }

    /// <summary>The case names (file names without <c>.json</c>), sorted; just <see cref="MissingPlaceholder"/> when the folder is absent.</summary>
    public static IEnumerable<string> CaseNames()
    {
        var dir = Directory;
        if (dir is null) return [MissingPlaceholder];
        var names = System.IO.Directory.GetFiles(dir, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        return names.Length == 0 ? [MissingPlaceholder] : names;
    }

    /// <summary>Loads <c>{name}.json</c>; calls <see cref="Assert.Ignore(string)"/> when the golden folder or file is absent.</summary>
    /// <exception cref="InvalidDataException">The file does not have the documented structure.</exception>
    public static GoldenCase Load(string name)
    {
        var dir = Directory;
        if (dir is null)
            Assert.Ignore($"Golden values not found: expected <repo root>/../shared/data/golden next to the repository (searched up from {StartDirectory()} for Autograd.sln).");
        var path = Path.Combine(dir!, name + ".json");
        if (!File.Exists(path))
            Assert.Ignore($"Golden case '{name}' not found at {path}.");

        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var c = new GoldenCase(name)
        {
            Generator = root.TryGetProperty("generator", out var g) ? g.GetString() ?? "" : "",
            Layers = Required(root, "layers", name).EnumerateArray()
                .Select(l => new GoldenLayer(
                    Required(l, "kind", name).GetString() ?? "",
                    Required(l, "hiddenSize", name).GetInt32(),
                    Required(l, "outputSize", name).GetInt32()))
                .ToArray(),
            Input = ReadTensor(root, "input", name),
            G = ReadTensor(root, "G", name),
            Output = ReadTensor(root, "output", name),
            InputGradient = ReadTensor(root, "inputGradient", name),
            SecondInput = ReadTensor(root, "secondInput", name),
            SecondOutput = ReadTensor(root, "secondOutput", name),
        };
        var (keys, parameters) = ReadTensorMap(root, "parameters", name);
        var (gradKeys, gradients) = ReadTensorMap(root, "gradients", name);
        if (!keys.SequenceEqual(gradKeys))
            throw new InvalidDataException($"Golden case '{name}': gradients keys ({string.Join(", ", gradKeys)}) differ from parameters keys ({string.Join(", ", keys)}).");
        c.ParameterNames = keys;
        c.Parameters = parameters;
        c.Gradients = gradients;
        return c;
    }

    /// <summary>The reference model this case describes, in double, with the case's initial parameters loaded and zero state.</summary>
    /// <param name="gruResetAfter">Build GRU layers in the reset-after form (the golden values use reset-before; for negative checks).</param>
    public ReferenceModel<double> BuildReferenceModel(bool gruResetAfter = false)
    {
        int features = Input.Shape[^1];
        var layers = new ReferenceLayer<double>[Layers.Count];
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i] = new ReferenceLayer<double>(Layers[i].CellKind, features, Layers[i].HiddenSize, Layers[i].OutputSize,
                gruResetAfter && Layers[i].CellKind == ReferenceCellKind.Gru);
            features = Layers[i].OutputSize;
        }
        var model = new ReferenceModel<double>(layers);
        var expected = model.Keys.Order(StringComparer.Ordinal).ToArray();
        var actual = ParameterNames.Order(StringComparer.Ordinal).ToArray();
        if (!expected.SequenceEqual(actual))
            throw new InvalidDataException($"Golden case '{Name}': parameter keys ({string.Join(", ", ParameterNames)}) differ from the reference model's ({string.Join(", ", model.Keys)}).");
        foreach (var key in ParameterNames)
        {
            var t = Parameters[key];
            var shape = model.Shape(key);
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"Golden case '{Name}': {key} has shape {t.ShapeText}, the api.md shape is ({shape[0]}, {shape[1]}).");
            model.SetValue(key, t.Data);
        }
        return model;
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static string StartDirectory()
    {
        try { return TestContext.CurrentContext.TestDirectory; }
        catch (Exception) { return AppContext.BaseDirectory; } // no test context during discovery
    }

    private static string? FindRepoRoot()
    {
        for (var d = new DirectoryInfo(StartDirectory()); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Autograd.sln"))) return d.FullName;
        return null;
    }

    private static JsonElement Required(JsonElement e, string property, string name)
        => e.TryGetProperty(property, out var v) ? v : throw new InvalidDataException($"Golden case '{name}': missing '{property}'.");

    private static GoldenTensor ReadTensor(JsonElement parent, string property, string name)
        => ToTensor(Required(parent, property, name), property, name);

    private static GoldenTensor ToTensor(JsonElement e, string what, string name)
    {
        var shape = Required(e, "shape", name).EnumerateArray().Select(s => s.GetInt32()).ToArray();
        var data = Required(e, "data", name).EnumerateArray().Select(s => s.GetDouble()).ToArray();
        long n = 1;
        foreach (var s in shape) n *= s;
        if (n != data.Length)
            throw new InvalidDataException($"Golden case '{name}': '{what}' has shape ({string.Join(", ", shape)}) but {data.Length} values.");
        return new GoldenTensor(shape, data);
    }

    private static (string[] Keys, Dictionary<string, GoldenTensor> Map) ReadTensorMap(JsonElement root, string property, string name)
    {
        var keys = new List<string>();
        var map = new Dictionary<string, GoldenTensor>(StringComparer.Ordinal);
        foreach (var p in Required(root, property, name).EnumerateObject())
        {
            keys.Add(p.Name);
            map.Add(p.Name, ToTensor(p.Value, $"{property}.{p.Name}", name));
        }
        return (keys.ToArray(), map);
    }
}
