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
/// <param name="Kind"><c>rnn</c>, <c>gru</c>, <c>gru_ra</c> (reset-after GRU, golden-ext only) or <c>lstm</c>, as in the json.</param>
public sealed record GoldenLayer(string Kind, int HiddenSize, int OutputSize)
{
    /// <summary>The reference cell kind for <see cref="Kind"/>.</summary>
    public ReferenceCellKind CellKind => Kind switch
    {
        "rnn" => ReferenceCellKind.Rnn,
        "gru" or "gru_ra" => ReferenceCellKind.Gru,
        "lstm" => ReferenceCellKind.Lstm,
        _ => throw new InvalidDataException($"Golden layer kind '{Kind}' is not rnn, gru, gru_ra or lstm."),
    };

    /// <summary>The reset-after GRU form (<c>RecurrentOptions.GruResetAfter</c>).</summary>
    public bool GruResetAfter => Kind == "gru_ra";
}

/// <summary>
/// One PyTorch golden case from <c>&lt;repo root&gt;/../shared/data/golden/*.json</c> or <c>golden-ext</c>
/// (see the READMEs there): a layer stack, its initial parameters, an input, <c>G</c> with loss =
/// sum(output * G), and the expected output, parameter gradients, input gradient and second-batch
/// output (state carried from the first); golden-ext also differentiates the second pass.
/// A missing folder or file fails the test: nothing is skipped.
/// </summary>
public sealed class GoldenCase
{
    /// <summary>The folder of the base set (reset-before GRU, forward-only second pass).</summary>
    public const string Base = "golden";

    /// <summary>The folder of the extended set: reset-after GRU (<c>gru_ra</c>) and the second pass with gradients.</summary>
    public const string Extended = "golden-ext";

    /// <summary>Every case each set must hold, exactly: a file missing or added fails a test instead of silently changing what is checked.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> ExpectedCases = new Dictionary<string, string[]>
    {
        [Base] = Seeds("gru", "gru-lstm", "lstm", "lstm-rnn-gru", "rnn"),
        [Extended] = Seeds("gru", "gru-lstm", "gru_ra", "gru_ra-lstm", "lstm", "lstm-gru_ra-rnn", "lstm-rnn-gru", "rnn"),
    };

    private static string[] Seeds(params string[] stacks) => [.. stacks.SelectMany(s => new[] { $"{s}-seed1", $"{s}-seed2" }).Order(StringComparer.Ordinal)];

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

    /// <summary>golden-ext: loss weights of the second pass; null in the base set.</summary>
    public GoldenTensor? SecondG { get; private set; }

    /// <summary>golden-ext: d second loss / d parameter by key (gradients zeroed between the passes); empty in the base set.</summary>
    public IReadOnlyDictionary<string, GoldenTensor> SecondGradients { get; private set; } = new Dictionary<string, GoldenTensor>();

    /// <summary>golden-ext: d second loss / d second input; null in the base set.</summary>
    public GoldenTensor? SecondInputGradient { get; private set; }

    /// <summary>The folder of <paramref name="set"/> (<see cref="Base"/> or <see cref="Extended"/>), or null when it is absent.</summary>
    public static string? Folder(string set = Base)
    {
        var root = FindRepoRoot();
        if (root is null) return null;
        var dir = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", set));
        return System.IO.Directory.Exists(dir) ? dir : null;
    }

    /// <summary>The case names of <paramref name="set"/>, sorted: the expected list, whether or not the folder is there (a missing one fails each test).</summary>
    public static IEnumerable<string> CaseNames(string set = Base) => ExpectedCases[set];

    /// <summary>Loads <c>{name}.json</c> of <paramref name="set"/>; fails the test when the folder or the file is absent.</summary>
    /// <exception cref="InvalidDataException">The file does not have the documented structure.</exception>
    public static GoldenCase Load(string name, string set = Base)
    {
        var dir = Folder(set);
        if (dir is null)
            Assert.Fail($"Golden values not found: expected <repo root>/../shared/data/{set} next to the repository (searched up from {StartDirectory()} for Autograd.sln). CI provides it; a clone without ../shared cannot run these tests.");
        var path = Path.Combine(dir!, name + ".json");
        if (!File.Exists(path))
            Assert.Fail($"Golden case '{name}' not found at {path}.");

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
        if (root.TryGetProperty("secondGradients", out _))
        {
            var (secondKeys, secondGradients) = ReadTensorMap(root, "secondGradients", name);
            if (!keys.SequenceEqual(secondKeys))
                throw new InvalidDataException($"Golden case '{name}': secondGradients keys ({string.Join(", ", secondKeys)}) differ from parameters keys ({string.Join(", ", keys)}).");
            c.SecondGradients = secondGradients;
            c.SecondG = ReadTensor(root, "secondG", name);
            c.SecondInputGradient = ReadTensor(root, "secondInputGradient", name);
        }
        return c;
    }

    /// <summary>The reference model this case describes, in double, with the case's initial parameters loaded and zero state.</summary>
    /// <param name="flipGruForm">Build every GRU layer in the other form than the case's (for negative checks).</param>
    public ReferenceModel<double> BuildReferenceModel(bool flipGruForm = false)
    {
        int features = Input.Shape[^1];
        var layers = new ReferenceLayer<double>[Layers.Count];
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i] = new ReferenceLayer<double>(Layers[i].CellKind, features, Layers[i].HiddenSize, Layers[i].OutputSize,
                Layers[i].CellKind == ReferenceCellKind.Gru && (Layers[i].GruResetAfter != flipGruForm));
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
