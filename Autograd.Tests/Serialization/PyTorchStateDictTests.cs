using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Autograd.Nn;
using Autograd.Nn.Serialization;
using Autograd.Tests.Golden;
using Autograd.Tests.Nn;

namespace Autograd.Tests.Serialization;

/// <summary>
/// PyTorch weights in and out: the committed state_dict safetensors files (written as safetensors.torch does,
/// F64/F32/F16) load exactly into the equivalent model of ours and write back to the same bytes; bad files and
/// models without a PyTorch equivalent are refused with messages naming what is wrong, before anything changes.
/// </summary>
public class PyTorchStateDictTests
{
    private static string PathOf(string file) => Path.Combine(PyTorchLayerCase.Directory, file);

    /// <summary>One entry of state-dicts.json.</summary>
    private sealed record SidecarFile(string File, string Sha256, string DType, Dictionary<string, string>? Metadata, JsonElement Module, (string Name, double[] Values)[] Tensors);

    private static SidecarFile Sidecar(string file)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(PathOf("state-dicts.json")));
        var e = doc.RootElement.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("file").GetString() == file);
        var meta = e.GetProperty("metadata");
        return new SidecarFile(file, e.GetProperty("sha256").GetString()!, e.GetProperty("dtype").GetString()!,
            meta.ValueKind == JsonValueKind.Null ? null : meta.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            e.GetProperty("module").Clone(),
            e.GetProperty("tensors").EnumerateArray().Select(t => (t.GetProperty("name").GetString()!, t.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray())).ToArray());
    }

    /// <summary>The model of ours that the file's PyTorch module is, unbuilt (the file's shapes build it).</summary>
    private static Module<T> ModelFor<T>(SidecarFile s) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var m = s.Module;
        string cls = m.GetProperty("class").GetString()!;
        if (cls.StartsWith("Embedding", StringComparison.Ordinal)) return new PyTorchGoldenTests.EmbeddingLstm<T>();
        return PyTorchGoldenTests.Stack<T>(cls["nn.".Length..].ToLowerInvariant(), m.GetProperty("hiddenSize").GetInt32(),
            m.GetProperty("numLayers").GetInt32(), m.GetProperty("bidirectional").GetBoolean());
    }

    public static IEnumerable<TestCaseData> Files()
    {
        foreach (var file in new[] { "state-lstm-l2-bi", "state-gru-l1-uni", "state-rnn-l2-uni", "state-embedding-lstm-l2" })
            foreach (var dtype in new[] { "f64", "f32", "f16" })
            {
                if (dtype == "f16" && file != "state-gru-l1-uni") continue;
                yield return new TestCaseData($"{file}-{dtype}.safetensors", typeof(double)).SetName($"{file}-{dtype}_Double");
                yield return new TestCaseData($"{file}-{dtype}.safetensors", typeof(float)).SetName($"{file}-{dtype}_Float");
            }
    }

    /// <summary>
    /// Each file loads exactly and writes back byte for byte. An F64 file in a float model can only be rounded:
    /// it must then hold exactly the values of PyTorch's F32 file (round to nearest) and write that file.
    /// </summary>
    [TestCaseSource(nameof(Files))]
    public void PyTorchFile_LoadsExactly_AndWritesBackTheSameBytes(string file, Type element)
    {
        if (element == typeof(double)) RoundTrip<double>(file, file);
        else RoundTrip<float>(file, file.Replace("-f64.", "-f32."));
    }

    private static void RoundTrip<T>(string file, string expectedFile) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var sidecar = Sidecar(expectedFile);
        var original = File.ReadAllBytes(PathOf(expectedFile));
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(original)), Is.EqualTo(sidecar.Sha256), "the committed file is intact");

        var model = ModelFor<T>(sidecar);
        PyTorchSafeTensors.Load(model, PathOf(file));
        var ours = model.PyTorchStateDict();
        Assert.That(ours.Keys.Order(StringComparer.Ordinal), Is.EqualTo(sidecar.Tensors.Select(t => t.Name)), "every name, nothing more");
        foreach (var (name, values) in sidecar.Tensors)
            Assert.That(ours[name].ToArray().Select(v => double.CreateChecked(v)), Is.EqualTo(values), $"{name}: exactly the stored values");

        var path = Path.Combine(Path.GetTempPath(), $"autograd-pt-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchSafeTensors.Save(model, path, Enum.Parse<SafeTensorsDType>(sidecar.DType), sidecar.Metadata);
            var written = File.ReadAllBytes(path);
            if (!written.AsSpan().SequenceEqual(original))
            {
                int header = (int)BitConverter.ToUInt64(original, 0);
                Assert.Fail($"{file}: written {written.Length} bytes differ from the original {original.Length}; headers:\n{Encoding.UTF8.GetString(written, 8, Math.Min(header, written.Length - 8))}\n{Encoding.UTF8.GetString(original, 8, header)}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>README's "Bring your PyTorch model" class, verbatim.</summary>
    private sealed class Tagger : Module<float>
    {
        public Embedding<float> Embedding { get; } = new(7, 3);
        public RnnModel<float> Lstm { get; } = RnnModel<float>.Stack(CellKind.Lstm, hiddenSize: 4, layers: 2);
        public Linear<float> Head { get; } = new(2);

        public Tensor<float> Forward(int[] ids, int batch, int time, int[] lengths)
            => Head.Forward(Lstm.Forward(Embedding.Forward(ids, batch, time), lengths));

        protected override IEnumerable<(string Name, Module<float> Child)> Children() => [("embedding", Embedding), ("lstm", Lstm), ("head", Head)];
    }

    [Test]
    public void ReadmeSnippet_LoadsPyTorchsFile_RunsLikePyTorch_AndSavesItBack()
    {
        var g = PyTorchLayerCase.Load("embedding-lstm-l2");
        var model = new Tagger();
        PyTorchSafeTensors.Load(model, PathOf("state-embedding-lstm-l2-f32.safetensors"));
        var y = model.Forward(g.Ids, 3, 5, g.Lengths).ToArray();
        var expected = g["headOutput"]!.Data;
        Assert.That(y.Select((v, i) => Math.Abs(v - expected[i])).Max(), Is.LessThan(1e-5), "float32 weights, float32 forward, vs PyTorch's float64");
        var path = Path.Combine(Path.GetTempPath(), $"autograd-pt-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchSafeTensors.Save(model, path, metadata: new Dictionary<string, string> { ["format"] = "pt" });
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(File.ReadAllBytes(PathOf("state-embedding-lstm-l2-f32.safetensors"))));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void PyTorchFile_ValuesEqualTheGoldenCaseParameters()
    {
        var g = PyTorchLayerCase.Load("lstm-l2-bi");
        var model = PyTorchGoldenTests.Stack<double>("lstm", 4, 2, true);
        PyTorchSafeTensors.Load(model, PathOf("state-lstm-l2-bi-f64.safetensors"));
        foreach (var (name, t) in model.PyTorchStateDict())
            Assert.That(t.ToArray(), Is.EqualTo(g.Parameters[name].Data), name);
    }

    [Test]
    public void OurNames_ToPyTorch_AndBack_GiveTheSameModel()
    {
        // A model of ours with random values everywhere (recurrent biases too): ours → PyTorch → ours is the identity.
        foreach (var kind in new[] { "rnn", "gru", "lstm" })
        {
            var a = PyTorchGoldenTests.Stack<double>(kind, 5, 2, true);
            a.Build(3);
            var rng = new Random(4);
            foreach (var p in a.Parameters()) p.CopyFrom(Tensor.Randn<double>(rng, p.Shape.ToArray()).AsSpan());
            var b = PyTorchGoldenTests.Stack<double>(kind, 5, 2, true);
            b.LoadPyTorchStateDict(a.PyTorchStateDict());
            Assert.That(b.StateDict().Keys, Is.EqualTo(a.StateDict().Keys), kind);
            foreach (var (name, p) in a.StateDict()) Assert.That(b.StateDict()[name].ToArray(), Is.EqualTo(p.ToArray()), $"{kind} {name}");
        }
    }

    private static Dictionary<string, Tensor<double>> GoodState() => PyTorchLayerCase.Load("gru-l2-uni").Parameters
        .Where(p => !p.Key.StartsWith("head.", StringComparison.Ordinal)).ToDictionary(p => p.Key, p => p.Value.ToTensor<double>());

    private static RnnModel<double> BuiltGru()
    {
        var model = PyTorchGoldenTests.Stack<double>("gru", 4, 2, false);
        model.Build(3);
        return model;
    }

    [Test]
    public void MissingUnknownAndMisshapedNames_AreRefusedByName_AndNothingChanges()
    {
        var model = BuiltGru();
        var before = model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
        var good = GoodState();

        var missing = new Dictionary<string, Tensor<double>>(good);
        missing.Remove("bias_hh_l1");
        missing.Remove("weight_ih_l0");
        Assert.That(() => model.LoadPyTorchStateDict(missing), Throws.ArgumentException
            .With.Message.Contains("missing 'weight_ih_l0' (expected shape (12, 3))").And.Message.Contains("missing 'bias_hh_l1'"));

        var unknown = new Dictionary<string, Tensor<double>>(good) { ["weight_ih_l2"] = Tensor.Zeros<double>(12, 4), ["head.weight"] = Tensor.Zeros<double>(2, 4) };
        Assert.That(() => model.LoadPyTorchStateDict(unknown), Throws.ArgumentException
            .With.Message.Contains("unknown name 'weight_ih_l2'").And.Message.Contains("unknown name 'head.weight'"));

        var misshaped = new Dictionary<string, Tensor<double>>(good) { ["weight_hh_l1"] = Tensor.Zeros<double>(4, 12) };
        Assert.That(() => model.LoadPyTorchStateDict(misshaped), Throws.ArgumentException
            .With.Message.Contains("'weight_hh_l1' has shape (4, 12), expected (12, 4)"));

        foreach (var (name, p) in model.StateDict()) Assert.That(p.ToArray(), Is.EqualTo(before[name]), $"a refused load changes nothing ({name})");
        model.LoadPyTorchStateDict(good);
        Assert.That(model.StateDict()["layers.0.W_xr"].ToArray(), Is.Not.EqualTo(before["layers.0.W_xr"]), "the good state dict does load");
    }

    [Test]
    public void RefusedDict_LeavesUnbuiltLayersUnbuilt_AndBuiltOnesUnchanged()
    {
        // A refused dict must not build anything: not the stack's layers, not a Linear head, not a projected layer.
        var good = GoodState();
        var misshaped = new Dictionary<string, Tensor<double>>(good) { ["weight_hh_l1"] = Tensor.Zeros<double>(4, 12) };
        var stack = PyTorchGoldenTests.Stack<double>("gru", 4, 2, false);
        Assert.That(() => stack.LoadPyTorchStateDict(misshaped), Throws.ArgumentException
            .With.Message.Contains("'weight_hh_l1' has shape (4, 12), expected (12, 4)"));
        Assert.That(stack.Layers.Select(l => l.InputSize), Is.All.Null, "no layer built by a refused dict");
        Assert.That(stack.Parameters(), Is.Empty);

        var missing = new Dictionary<string, Tensor<double>>(good);
        missing.Remove("weight_ih_l1");
        Assert.That(() => stack.LoadPyTorchStateDict(missing), Throws.ArgumentException.With.Message.Contains("missing 'weight_ih_l1'"));
        Assert.That(stack.Layers.Select(l => l.InputSize), Is.All.Null, "layer 0 not built when layer 1's weights are missing");

        var withHead = new PyTorchGoldenTests.EmbeddingLstm<double>();
        var full = PyTorchLayerCase.Load("gru-l2-uni").Parameters; // a GRU file: the LSTM stack cannot take it
        var headOnly = new Dictionary<string, Tensor<double>> { ["head.weight"] = full["head.weight"].ToTensor<double>(), ["head.bias"] = full["head.bias"].ToTensor<double>() };
        Assert.That(() => withHead.LoadPyTorchStateDict(headOnly), Throws.ArgumentException.With.Message.Contains("missing 'lstm.weight_ih_l0'"));
        Assert.That(withHead.Head.InputSize, Is.Null, "the Linear head stays unbuilt");
        Assert.That(withHead.Lstm.Layers.Select(l => l.InputSize), Is.All.Null);

        var projected = new RnnModel<double>(new LstmLayer<double>(4, 5, RecurrentOptions.PyTorch));
        var lstmState = new Dictionary<string, Tensor<double>>
        {
            ["weight_ih_l0"] = Tensor.Zeros<double>(16, 3), ["weight_hh_l0"] = Tensor.Zeros<double>(16, 4),
            ["bias_ih_l0"] = Tensor.Zeros<double>(16), ["bias_hh_l0"] = Tensor.Zeros<double>(16),
        };
        Assert.That(() => projected.LoadPyTorchStateDict(lstmState), Throws.InvalidOperationException.With.Message.Contains("W_v"));
        Assert.That(projected.Layers[0].InputSize, Is.Null, "a layer without a PyTorch equivalent is refused before it is built");

        stack.LoadPyTorchStateDict(good);
        Assert.That(stack.Layers.Select(l => l.InputSize), Is.EqualTo(new int?[] { 3, 4 }), "the good dict builds and loads");
        var before = stack.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
        Assert.That(() => stack.LoadPyTorchStateDict(misshaped), Throws.ArgumentException);
        foreach (var (name, p) in stack.StateDict()) Assert.That(p.ToArray(), Is.EqualTo(before[name]), $"a built model is unchanged by a refused dict ({name})");
    }

    [Test]
    public void BadFile_IsRefusedWithTheFileAndTheName()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"autograd-pt-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            // A tensor too many, in a file written as PyTorch would.
            var extra = Path.Combine(dir, "extra.safetensors");
            var writer = new SafeTensorsWriter();
            foreach (var (name, t) in GoodState()) writer.Add(name, t);
            writer.Add("weight_ih_l9", Tensor.Zeros<double>(12, 4)).Save(extra);
            var model = BuiltGru();
            var before = model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
            var e = Assert.Throws<CheckpointFormatException>(() => PyTorchSafeTensors.Load(model, extra))!;
            Assert.That(e.Message, Does.Contain(extra).And.Contain("unknown name 'weight_ih_l9'"));
            foreach (var (name, p) in model.StateDict()) Assert.That(p.ToArray(), Is.EqualTo(before[name]), name);

            // An integer tensor: not a weight.
            var ints = Path.Combine(dir, "ints.safetensors");
            File.WriteAllBytes(ints, RawSafeTensors("{\"weight_ih_l0\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]));
            e = Assert.Throws<CheckpointFormatException>(() => PyTorchSafeTensors.Load(BuiltGru(), ints))!;
            Assert.That(e.Message, Does.Contain("'weight_ih_l0'").And.Contain("I64"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static byte[] RawSafeTensors(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header.PadRight((header.Length + 7) / 8 * 8));
        return [.. BitConverter.GetBytes((ulong)h.Length), .. h, .. data];
    }

    [Test]
    public void BFloat16File_IsConvertedExactly_AndWritesBack()
    {
        // Values with at most 8 significant bits are exact in bfloat16.
        var model = PyTorchGoldenTests.Stack<float>("lstm", 3, 1, false);
        model.Build(2);
        var rng = new Random(9);
        foreach (var p in model.Parameters()) p.CopyFrom(p.ToArray().Select(_ => (float)(rng.Next(-128, 128) / 64.0)).ToArray());
        var path = Path.Combine(Path.GetTempPath(), $"autograd-pt-{Guid.NewGuid():N}.safetensors");
        var again = Path.Combine(Path.GetTempPath(), $"autograd-pt-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchSafeTensors.Save(model, path, SafeTensorsDType.BF16);
            Assert.That(SafeTensorsFile.Load(path).GetInfo("weight_ih_l0").DType, Is.EqualTo(SafeTensorsDType.BF16));
            var loaded = PyTorchGoldenTests.Stack<double>("lstm", 3, 1, false);
            PyTorchSafeTensors.Load(loaded, path);
            foreach (var (name, t) in model.PyTorchStateDict())
                Assert.That(loaded.PyTorchStateDict()[name].ToArray(), Is.EqualTo(t.ToArray().Select(v => (double)v)), name);
            PyTorchSafeTensors.Save(loaded, again, SafeTensorsDType.BF16);
            Assert.That(File.ReadAllBytes(again), Is.EqualTo(File.ReadAllBytes(path)));
        }
        finally
        {
            File.Delete(path);
            File.Delete(again);
        }
    }

    [Test]
    public void ModelsWithoutAPyTorchEquivalent_AreRefusedWithTheReason()
    {
        var seedGru = new RnnModel<double>(new GruLayer<double>(4, RecurrentOptions.PyTorch with { GruResetAfter = false }));
        seedGru.Build(3);
        Assert.That(() => seedGru.PyTorchStateDict(), Throws.InvalidOperationException.With.Message.Contains("reset").And.Message.Contains("GruResetAfter"));

        var projected = new RnnModel<double>(new LstmLayer<double>(4, 5, RecurrentOptions.PyTorch));
        projected.Build(3);
        Assert.That(() => projected.PyTorchStateDict(), Throws.InvalidOperationException.With.Message.Contains("W_v"));

        var mixed = new RnnModel<double>(new LstmLayer<double>(4, RecurrentOptions.PyTorch), new GruLayer<double>(4, RecurrentOptions.PyTorch));
        mixed.Build(3);
        Assert.That(() => mixed.PyTorchStateDict(), Throws.InvalidOperationException.With.Message.Contains("mixes cell kinds"));

        var unbuilt = new RnnModel<double>(new RnnLayer<double>(4, RecurrentOptions.PyTorch));
        Assert.That(() => unbuilt.PyTorchStateDict(), Throws.InvalidOperationException.With.Message.Contains("not built"));
    }

    [Test]
    public void LayerWithoutRecurrentBias_TakesZeroBiasHh_AndRefusesOthers()
    {
        // The seed's single bias per gate exports with bias_hh = 0 and takes such a file back; a real b_hh it cannot hold.
        var options = RecurrentOptions.PyTorch with { RecurrentBias = false };
        var model = new RnnModel<double>(new LstmLayer<double>(4, options));
        model.Build(3);
        var exported = model.PyTorchStateDict();
        Assert.That(exported["bias_hh_l0"].ToArray(), Is.All.EqualTo(0.0));
        var copy = new RnnModel<double>(new LstmLayer<double>(4, options));
        copy.LoadPyTorchStateDict(exported);
        Assert.That(copy.StateDict()["layers.0.B_f"].ToArray(), Is.EqualTo(model.StateDict()["layers.0.B_f"].ToArray()));

        var withBias = new Dictionary<string, Tensor<double>>(exported) { ["bias_hh_l0"] = Tensor.Ones<double>(16) };
        Assert.That(() => copy.LoadPyTorchStateDict(withBias), Throws.ArgumentException
            .With.Message.Contains("'bias_hh_l0' is not zero").And.Message.Contains("RecurrentBias"));
    }
    [Test]
    public void PyTorchDict_WithInputSizesThatDisagree_IsRefused()
    {
        var bi = PyTorchGoldenTests.Stack<double>("lstm", 4, 2, true);
        var three = PyTorchGoldenTests.Stack<double>("lstm", 4, 2, true);
        three.Build(3);
        var five = PyTorchGoldenTests.Stack<double>("lstm", 4, 2, true);
        five.Build(5);
        var reverseOf5 = three.PyTorchStateDict().ToDictionary(p => p.Key, p => p.Value);
        reverseOf5["weight_ih_l0_reverse"] = five.PyTorchStateDict()["weight_ih_l0_reverse"];
        Assert.That(() => bi.LoadPyTorchStateDict(reverseOf5), Throws.ArgumentException
            .With.Message.Contains("'weight_ih_l0_reverse' has shape (16, 5), expected (16, 3)"));
        Assert.That(bi.Layers.Select(l => l.InputSize), Is.All.Null, "nothing built");

        // Layer 1 of a bidirectional stack reads 2·H = 8 features.
        var layer1Of5 = three.PyTorchStateDict().ToDictionary(p => p.Key, p => p.Value);
        layer1Of5["weight_ih_l1"] = Tensor.Zeros<double>(16, 5);
        layer1Of5["weight_ih_l1_reverse"] = Tensor.Zeros<double>(16, 5);
        Assert.That(() => bi.LoadPyTorchStateDict(layer1Of5), Throws.ArgumentException
            .With.Message.Contains("'weight_ih_l1' has shape (16, 5), expected (16, 8)").And.Message.Contains("'weight_ih_l1_reverse' has shape (16, 5), expected (16, 8)"));
        Assert.That(bi.Layers.Select(l => l.InputSize), Is.All.Null, "nothing built");
    }
}
