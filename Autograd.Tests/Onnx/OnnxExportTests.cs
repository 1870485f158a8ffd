using System.Text.Json;
using Autograd.Nn;
using Autograd.Onnx;
using Google.Protobuf;
using Onnx;

namespace Autograd.Tests.Onnx;

/// <summary>
/// Exported models run in ONNX Runtime (an independent implementation of the ONNX RNN/GRU/LSTM
/// operators) and must give the library's forward within 1e-5 in float32, for each cell, both GRU
/// forms and mixed stacks, with non-zero carried state, and the same greedy generation.
/// </summary>
public class OnnxExportTests
{
    private const int Vocab = 11;
    internal const float Tolerance = 1e-5f;

    /// <summary>One layer of a stack; the last layer's output size is always <see cref="Vocab"/>.</summary>
    public sealed record LayerSpec(CellKind Kind, int Hidden, int Output = Vocab, bool ResetAfter = false)
    {
        public override string ToString() => Kind + (Kind == CellKind.Gru ? (ResetAfter ? "(after)" : "(before)") : "");
    }

    public static IEnumerable<TestCaseData> Stacks()
    {
        yield return Case("Rnn", new LayerSpec(CellKind.Rnn, 16));
        yield return Case("Gru_ResetBefore", new LayerSpec(CellKind.Gru, 16));
        yield return Case("Gru_ResetAfter", new LayerSpec(CellKind.Gru, 16, ResetAfter: true));
        yield return Case("Lstm", new LayerSpec(CellKind.Lstm, 16));
        yield return Case("Gru_Lstm", new LayerSpec(CellKind.Gru, 12, 10), new LayerSpec(CellKind.Lstm, 16));
        yield return Case("Lstm_Rnn_Gru", new LayerSpec(CellKind.Lstm, 12, 9), new LayerSpec(CellKind.Rnn, 10, 13), new LayerSpec(CellKind.Gru, 8, ResetAfter: true));
        yield return Case("GruAfter_GruBefore", new LayerSpec(CellKind.Gru, 9, 7, ResetAfter: true), new LayerSpec(CellKind.Gru, 14));
    }

    private static TestCaseData Case(string name, params LayerSpec[] layers) => new TestCaseData(new object[] { layers }).SetArgDisplayNames(name); // the method name stays in the test name: four tests share these cases

    /// <summary>
    /// A stack trained for a few Adam steps on random ids (so weights and the zero-initialised biases
    /// are not at their initial values), with the given carry mode; the training leaves a carried state.
    /// </summary>
    /// <param name="target">Maps each input id to its target; null for random targets.</param>
    private static RnnModel<float> Trained(LayerSpec[] specs, CarryMode carry, InitScheme init = InitScheme.XavierOrthogonal, Func<int, int>? target = null, int steps = 5)
    {
        var layers = specs.Select((s, i) =>
        {
            var options = new RecurrentOptions { Carry = carry, Init = init, Seed = 17 + i, GruResetAfter = s.ResetAfter };
            return s.Kind switch
            {
                CellKind.Rnn => (RecurrentLayer<float>)new RnnLayer<float>(s.Hidden, s.Output, options),
                CellKind.Gru => new GruLayer<float>(s.Hidden, s.Output, options),
                _ => new LstmLayer<float>(s.Hidden, s.Output, options),
            };
        });
        var model = new RnnModel<float>(layers.ToArray());
        var rng = new Random(5);
        const int b = 4, t = 7;
        model.Build(Vocab);
        var adam = new Adam<float>(model.Parameters(), 0.05f);
        for (int step = 0; step < steps; step++)
        {
            adam.ZeroGrad();
            var ids = RandomIds(rng, b * t);
            var targets = target is null ? RandomIds(rng, b * t) : ids.Select(target).ToArray();
            var loss = Losses.CrossEntropy(model.ForwardOneHot(ids, b, t, Vocab), targets);
            loss.Backward();
            adam.Step();
        }
        return model;
    }

    /// <summary>The stacks here are of unidirectional recurrent layers.</summary>
    private static IReadOnlyList<RecurrentLayer<float>> LayersOf(RnnModel<float> model) => model.Layers.Cast<RecurrentLayer<float>>().ToArray();

    private static int[] RandomIds(Random rng, int n) => Enumerable.Range(0, n).Select(_ => rng.Next(Vocab)).ToArray();

    private static float[] RandomFloats(Random rng, int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)(scale * (2 * rng.NextDouble() - 1))).ToArray();

    internal static byte[] Export(RnnModel<float> model, OnnxExportOptions? options = null)
    {
        using var stream = new MemoryStream();
        OnnxExporter.Export(model, stream, options);
        return stream.ToArray();
    }

    /// <summary>A (1, H) or (B, H) state as ONNX's (1, B, H): the batch-mean state repeated over the batch.</summary>
    private static float[] AsOnnxState(Tensor<float> state, int batch)
    {
        var data = state.ToArray();
        return state.Size(0) == batch ? data : Enumerable.Repeat(data, batch).SelectMany(row => row).ToArray();
    }

    /// <summary>The layers' carried states as ONNX initial-state inputs, for a batch of <paramref name="batch"/>.</summary>
    private static List<(string, Array, long[])> StateInputs(RnnModel<float> model, int batch)
    {
        var inputs = new List<(string, Array, long[])>();
        for (int i = 0; i < LayersOf(model).Count; i++)
        {
            var layer = LayersOf(model)[i];
            long[] shape = [1, batch, layer.HiddenSize];
            inputs.Add((OnnxExporter.InitialHidden(i), AsOnnxState(layer.StartH!, batch), shape));
            if (layer.Kind == CellKind.Lstm) inputs.Add((OnnxExporter.InitialCell(i), AsOnnxState(layer.StartC!, batch), shape));
        }
        return inputs;
    }

    internal static float MaxAbsDiff(float[] a, float[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length), "element count");
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
        return max;
    }

    private static float MaxAbs(float[] a) => a.Max(MathF.Abs);

    [TestCaseSource(nameof(Stacks))]
    public void Ids_BatchFirst_WithCarriedBatchMeanState_MatchesForward(LayerSpec[] specs)
    {
        var model = Trained(specs, CarryMode.BatchMean);
        var rng = new Random(11);
        const int b = 3, t = 9; // a batch size other than training's: the (1, H) state is repeated
        var ids = RandomIds(rng, b * t);
        foreach (var layer in LayersOf(model))
            Assert.That(MaxAbs(layer.StartH!.ToArray()), Is.GreaterThan(1e-3f), "training should leave a non-zero carried state");
        var state = StateInputs(model, b);

        float[] ours;
        using (Tensor.NoGrad()) ours = model.ForwardOneHot(ids, b, t, Vocab).ToArray();

        using var ort = new OrtSession(Export(model));
        var theirs = ort.Run([(OnnxExporter.IdsInput, ids.Select(i => (long)i).ToArray(), [b, t]), .. state]);

        float error = MaxAbsDiff(ours, theirs[OnnxExporter.Output]);
        TestContext.Out.WriteLine($"max |ours - ORT| output = {error:E2} (output max |x| = {MaxAbs(ours):F3})");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance));
        // The library stores the batch mean of the final state; ORT returns the final state per row.
        for (int i = 0; i < LayersOf(model).Count; i++)
        {
            var layer = LayersOf(model)[i];
            AssertBatchMean(layer.StartH!, theirs[OnnxExporter.FinalHidden(i)], b, $"layer {i} hidden");
            if (layer.Kind == CellKind.Lstm) AssertBatchMean(layer.StartC!, theirs[OnnxExporter.FinalCell(i)], b, $"layer {i} cell");
        }
    }

    private static void AssertBatchMean(Tensor<float> ours, float[] final, int batch, string what)
    {
        int h = ours.Size(1);
        var mean = new float[h];
        for (int r = 0; r < batch; r++)
            for (int j = 0; j < h; j++) mean[j] += final[r * h + j] / batch;
        Assert.That(MaxAbsDiff(ours.ToArray(), mean), Is.LessThanOrEqualTo(Tolerance), what);
    }

    [TestCaseSource(nameof(Stacks))]
    public void Ids_BatchFirst_WithPerSequenceState_MatchesForwardAndFinalState(LayerSpec[] specs)
    {
        var model = Trained(specs, CarryMode.PerSequence);
        var rng = new Random(12);
        const int b = 3, t = 6;
        // A different random state per row, so a mix-up of rows or of h and c cannot pass.
        foreach (var layer in LayersOf(model))
        {
            int h = layer.HiddenSize;
            layer.SetState(Tensor.FromArray(RandomFloats(rng, b * h, 0.8), b, h),
                           layer.Kind == CellKind.Lstm ? Tensor.FromArray(RandomFloats(rng, b * h, 1.5), b, h) : null);
        }
        var state = StateInputs(model, b);
        var ids = RandomIds(rng, b * t);

        float[] ours;
        using (Tensor.NoGrad()) ours = model.ForwardOneHot(ids, b, t, Vocab).ToArray();

        using var ort = new OrtSession(Export(model));
        var theirs = ort.Run([(OnnxExporter.IdsInput, ids.Select(i => (long)i).ToArray(), [b, t]), .. state]);

        float error = MaxAbsDiff(ours, theirs[OnnxExporter.Output]);
        float stateError = 0;
        for (int i = 0; i < LayersOf(model).Count; i++)
        {
            var layer = LayersOf(model)[i];
            stateError = MathF.Max(stateError, MaxAbsDiff(layer.StartH!.ToArray(), theirs[OnnxExporter.FinalHidden(i)]));
            if (layer.Kind == CellKind.Lstm)
                stateError = MathF.Max(stateError, MaxAbsDiff(layer.StartC!.ToArray(), theirs[OnnxExporter.FinalCell(i)]));
        }
        TestContext.Out.WriteLine($"max |ours - ORT| output = {error:E2}, final states = {stateError:E2}");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance), "output");
        Assert.That(stateError, Is.LessThanOrEqualTo(Tolerance), "final states");
    }

    [TestCaseSource(nameof(Stacks))]
    public void Features_TimeFirst_NoStateInputs_MatchesForward(LayerSpec[] specs)
    {
        var model = Trained(specs, CarryMode.BatchMean);
        model.ResetState(); // the graph without state inputs starts from zeros, as a reset layer does
        var rng = new Random(13);
        const int b = 2, t = 5;
        var x = RandomFloats(rng, b * t * Vocab, 1.0); // arbitrary features, not one-hot

        float[] ours;
        using (Tensor.NoGrad()) ours = model.Forward(Tensor.FromArray(x, b, t, Vocab)).ToArray();

        var bytes = Export(model, new OnnxExportOptions { Input = OnnxInputKind.Features, BatchFirst = false, StateInputs = false });
        using var ort = new OrtSession(bytes);
        Assert.That(ort.Session.InputNames, Is.EqualTo(new[] { OnnxExporter.FeaturesInput }));
        var theirs = ort.Run((OnnxExporter.FeaturesInput, TimeMajor(x, b, t, Vocab), [t, b, Vocab]))[OnnxExporter.Output];

        float error = MaxAbsDiff(TimeMajor(ours, b, t, Vocab), theirs);
        TestContext.Out.WriteLine($"max |ours - ORT| output = {error:E2}");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance));
    }

    /// <summary>(b, t, f) row-major → (t, b, f), by index arithmetic.</summary>
    internal static float[] TimeMajor(float[] x, int b, int t, int f)
    {
        var y = new float[x.Length];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++)
                Array.Copy(x, (i * t + j) * f, y, (j * b + i) * f, f);
        return y;
    }

    [TestCaseSource(nameof(Stacks))]
    public void GreedyGeneration_OnnxRuntimeMatchesLibrary(LayerSpec[] specs)
    {
        // Taught the successor x → 3x + 1 (mod 11), so greedy generation walks a cycle instead of
        // settling on the most frequent class.
        var model = Trained(specs, CarryMode.PerSequence, target: id => (3 * id + 1) % Vocab, steps: 40);
        model.ResetState();
        const int b = 2, prompt = 5, steps = 50;
        var rng = new Random(14);
        var promptIds = RandomIds(rng, b * prompt);

        // Ours: the prompt in one pass, then one id per pass; PerSequence carries each row's state.
        var ourTokens = new List<int>();
        var ourLogits = new List<float[]>();
        float minGap = float.MaxValue;
        using (Tensor.NoGrad())
        {
            ourLogits.Add(model.ForwardOneHot(promptIds, b, prompt, Vocab).ToArray());
            var next = LastStepArgmax(ourLogits[^1], b, prompt, ref minGap);
            for (int s = 0; s < steps; s++)
            {
                ourTokens.AddRange(next);
                ourLogits.Add(model.ForwardOneHot(next, b, 1, Vocab).ToArray());
                next = LastStepArgmax(ourLogits[^1], b, 1, ref minGap);
            }
        }

        // ORT: the same, passing each final state back as the next initial state.
        using var ort = new OrtSession(Export(model));
        var theirTokens = new List<int>();
        var state = new Dictionary<string, float[]>();
        for (int i = 0; i < LayersOf(model).Count; i++)
        {
            int h = LayersOf(model)[i].HiddenSize;
            state[OnnxExporter.InitialHidden(i)] = new float[b * h];
            if (LayersOf(model)[i].Kind == CellKind.Lstm) state[OnnxExporter.InitialCell(i)] = new float[b * h];
        }
        long[] feed = promptIds.Select(i => (long)i).ToArray();
        int time = prompt;
        float ignored = float.MaxValue, logitError = 0;
        for (int s = 0; s <= steps; s++)
        {
            var inputs = new List<(string, Array, long[])> { (OnnxExporter.IdsInput, feed, [b, time]) };
            foreach (var (name, value) in state) inputs.Add((name, value, [1, b, value.Length / b]));
            var outputs = ort.Run([.. inputs]);
            foreach (var name in state.Keys.ToArray()) state[name] = outputs[name.Replace("initial_", "final_")];
            // Logits are compared while the token streams agree; after a divergence they would differ anyway.
            if (s == 0 || theirTokens.SequenceEqual(ourTokens.Take(theirTokens.Count)))
                logitError = MathF.Max(logitError, MaxAbsDiff(ourLogits[s], outputs[OnnxExporter.Output]));
            var next = LastStepArgmax(outputs[OnnxExporter.Output], b, time, ref ignored);
            if (s < steps) theirTokens.AddRange(next);
            feed = next.Select(i => (long)i).ToArray();
            time = 1;
        }

        TestContext.Out.WriteLine($"ours: {string.Join(",", ourTokens)}; smallest top-2 logit gap {minGap:E2}; max |ours - ORT| logits {logitError:E2}");
        Assert.That(theirTokens, Is.EqualTo(ourTokens));
        Assert.That(logitError, Is.LessThanOrEqualTo(Tolerance), "logits along the way");
        Assert.That(ourTokens.Distinct().Count(), Is.GreaterThan(1), "a constant sequence would say little about the state");
    }

    private static int[] LastStepArgmax(float[] logits, int b, int t, ref float minGap)
    {
        var ids = new int[b];
        for (int r = 0; r < b; r++)
        {
            var row = logits.AsSpan(((r * t) + t - 1) * Vocab, Vocab);
            int best = 0;
            for (int k = 1; k < Vocab; k++) if (row[k] > row[best]) best = k;
            float second = float.MinValue;
            for (int k = 0; k < Vocab; k++) if (k != best) second = MathF.Max(second, row[k]);
            minGap = MathF.Min(minGap, row[best] - second);
            ids[r] = best;
        }
        return ids;
    }

    [Test]
    public void SeedInit_DefaultOptions_MatchesForward()
    {
        // The seed's initialisation and the exporter's defaults, through a file on disk.
        var model = Trained([new LayerSpec(CellKind.Lstm, 10, 8), new LayerSpec(CellKind.Gru, 12)], CarryMode.BatchMean, InitScheme.Seed);
        var path = Path.Combine(Path.GetTempPath(), $"autograd-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Export(model, path);
            const int b = 2, t = 4;
            var ids = RandomIds(new Random(15), b * t);
            var state = StateInputs(model, b);
            float[] ours;
            using (Tensor.NoGrad()) ours = model.ForwardOneHot(ids, b, t, Vocab).ToArray();
            using var ort = new OrtSession(File.ReadAllBytes(path));
            var theirs = ort.Run([(OnnxExporter.IdsInput, ids.Select(i => (long)i).ToArray(), [b, t]), .. state])[OnnxExporter.Output];
            Assert.That(MaxAbsDiff(ours, theirs), Is.LessThanOrEqualTo(Tolerance));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Graph_HasDocumentedInputsOutputsAndMetadata()
    {
        var model = Trained([new LayerSpec(CellKind.Gru, 6, 5, ResetAfter: true), new LayerSpec(CellKind.Lstm, 7)], CarryMode.BatchMean);
        string[] vocabulary = ["a", "b", "\n", " ", "\"", "é", "<", "\\", "z", "0", "."];
        var bytes = Export(model, new OnnxExportOptions
        {
            Vocabulary = vocabulary,
            Metadata = new Dictionary<string, string> { ["dataset"] = "tiny" },
            Description = "test model",
        });
        using var ort = new OrtSession(bytes);
        var session = ort.Session;

        Assert.That(session.InputNames, Is.EqualTo(new[] { "ids", "initial_h_0", "initial_h_1", "initial_c_1" }));
        Assert.That(session.OutputNames, Is.EqualTo(new[] { "output", "final_h_0", "final_h_1", "final_c_1" }));
        Assert.That(session.InputMetadata["ids"].ElementType, Is.EqualTo(typeof(long)));
        Assert.That(session.InputMetadata["ids"].SymbolicDimensions, Is.EqualTo(new[] { "batch", "time" }));
        Assert.That(session.InputMetadata["initial_h_0"].Dimensions, Is.EqualTo(new[] { 1, -1, 6 }));
        Assert.That(session.InputMetadata["initial_c_1"].Dimensions, Is.EqualTo(new[] { 1, -1, 7 }));
        Assert.That(session.OutputMetadata["output"].Dimensions, Is.EqualTo(new[] { -1, -1, Vocab }));
        Assert.That(session.OutputMetadata["final_c_1"].Dimensions, Is.EqualTo(new[] { 1, -1, 7 }));

        var meta = session.ModelMetadata;
        Assert.That(meta.ProducerName, Is.EqualTo("Autograd"));
        Assert.That(meta.Description, Is.EqualTo("test model"));
        Assert.That(JsonSerializer.Deserialize<string[]>(meta.CustomMetadataMap[OnnxExporter.VocabularyKey]), Is.EqualTo(vocabulary));
        Assert.That(meta.CustomMetadataMap["dataset"], Is.EqualTo("tiny"));
        Assert.That(meta.CustomMetadataMap["layers"], Does.Contain("gru(input=11, hidden=6, output=5, reset_after=true)"));

        // The file parses as an ONNX ModelProto and the GRU carries the reset-after flag.
        var parsed = ModelProto.Parser.ParseFrom(bytes);
        Assert.That(parsed.OpsetImport.Single().Version, Is.EqualTo(OnnxExporter.OpsetVersion));
        var gru = parsed.Graph.Node.Single(n => n.OpType == "GRU");
        Assert.That(gru.Attribute.Single(a => a.Name == "linear_before_reset").I, Is.EqualTo(1));
        Assert.That(parsed.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[]
            { "Gather", "Transpose", "GRU", "Squeeze", "MatMul", "Add", "LSTM", "Squeeze", "MatMul", "Add", "Transpose" }));
    }

    [Test]
    public void ReadmeSnippet_RunsAndMatchesForward()
    {
        var model = Trained([new LayerSpec(CellKind.Lstm, 8, 6), new LayerSpec(CellKind.Gru, 7)], CarryMode.BatchMean);
        model.ResetState();
        string[] vocabulary = ["\n", " ", "A", "E", "M", "O", "R", ":", "a", "b", "c"];
        var path = Path.Combine(Path.GetTempPath(), $"autograd-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Export(model, path, new OnnxExportOptions { Vocabulary = vocabulary });

            // The README's "Use your model elsewhere" snippet, verbatim but for the file name.
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            var vocab = JsonSerializer.Deserialize<string[]>(session.ModelMetadata.CustomMetadataMap["vocabulary"])!;
            long[] ids = "ROMEO:".Select(c => (long)Array.IndexOf(vocab, c.ToString())).ToArray();
            var inputs = new Dictionary<string, Microsoft.ML.OnnxRuntime.OrtValue> { ["ids"] = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]) };
            foreach (var (name, meta) in session.InputMetadata.Where(m => m.Key.StartsWith("initial_")))
                inputs[name] = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new float[meta.Dimensions[2]], [1, 1, meta.Dimensions[2]]);
            using var results = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), inputs, ["output"]);
            var logits = results[0].GetTensorDataAsSpan<float>().ToArray();
            foreach (var v in inputs.Values) v.Dispose();

            float[] ours;
            int[] expectedIds = [6, 5, 4, 3, 5, 7];
            using (Tensor.NoGrad()) ours = model.ForwardOneHot(expectedIds, 1, 6, Vocab).ToArray();
            Assert.That(ids, Is.EqualTo(expectedIds.Select(i => (long)i)));
            Assert.That(MaxAbsDiff(ours, logits), Is.LessThanOrEqualTo(Tolerance));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Gru_ResetBefore_WritesLinearBeforeResetZero()
    {
        var model = Trained([new LayerSpec(CellKind.Gru, 4)], CarryMode.None);
        var gru = ModelProto.Parser.ParseFrom(Export(model)).Graph.Node.Single(n => n.OpType == "GRU");
        Assert.That(gru.Attribute.Single(a => a.Name == "linear_before_reset").I, Is.EqualTo(0));
    }

    [Test]
    public void BadInput_ThrowsClearly_AndWritesNoFile()
    {
        var unbuilt = new RnnModel<float>(new GruLayer<float>(4, Vocab));
        var path = Path.Combine(Path.GetTempPath(), $"autograd-onnx-{Guid.NewGuid():N}.onnx");
        var ex = Assert.Throws<InvalidOperationException>(() => OnnxExporter.Export(unbuilt, path));
        Assert.That(ex!.Message, Does.Contain("not built"));
        Assert.That(File.Exists(path), Is.False);

        var model = Trained([new LayerSpec(CellKind.Rnn, 4)], CarryMode.None);
        var vocab = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(model, path, new OnnxExportOptions { Vocabulary = ["a", "b"] }));
        Assert.That(vocab!.Message, Does.Contain("2 tokens").And.Contain("11"));
        Assert.Throws<ArgumentException>(() => OnnxExporter.Export(model, path, new OnnxExportOptions { Metadata = new Dictionary<string, string> { ["layers"] = "x" } }));
        Assert.That(File.Exists(path), Is.False);
        Assert.Throws<ArgumentNullException>(() => OnnxExporter.Export(null!, path));
        Assert.Throws<ArgumentException>(() => OnnxExporter.Export(model, " "));
    }

    [Test]
    public void OutOfRangeId_IsRejectedByTheRuntime()
    {
        var model = Trained([new LayerSpec(CellKind.Rnn, 4)], CarryMode.None);
        using var ort = new OrtSession(Export(model, new OnnxExportOptions { StateInputs = false }));
        Assert.That(() => ort.Run((OnnxExporter.IdsInput, new long[] { 3, Vocab }, [1, 2])), Throws.InstanceOf<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>());
    }
}
