using Autograd.Nn;
using Autograd.Nn.Serialization;
using Autograd.CharLm;

namespace Autograd.Tests.Training;

internal static class TinyModels
{
    public const string Text = "the quick brown fox jumps over the lazy dog. ";

    public static string Corpus(int repeats = 40) => string.Concat(Enumerable.Repeat(Text, repeats));

    public static CharLanguageModel Create(CellKind cell = CellKind.Lstm, int hidden = 8, int layers = 1, string text = Text, int seed = 3)
        => new(Vocabulary.FromText(text), new CharModelConfig(cell, hidden, layers), seed);

    /// <summary>Sets every parameter to zero, then the last layer's output bias to <paramref name="bias"/>: logits = bias at every step.</summary>
    public static void SetConstantLogits(CharLanguageModel model, float[] bias)
    {
        foreach (var p in model.Network.Parameters()) p.CopyFrom(new float[p.Length]);
        string key = $"layers.{model.Config.Layers - 1}.B_v";
        model.Network.StateDict()[key].CopyFrom(bias);
    }

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "autograd-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

[TestFixture]
public class EvaluatorTests
{
    [Test]
    public void UniformLogitsGiveLogOfVocabularySize()
    {
        var model = TinyModels.Create();
        int v = model.Vocabulary.Count;
        TinyModels.SetConstantLogits(model, new float[v]);
        var ids = model.Vocabulary.Encode(TinyModels.Corpus(3));
        var result = Evaluator.Evaluate(model, ids, streams: 4, chunkLength: 7);
        Assert.That(result.NatsPerSymbol, Is.EqualTo(Math.Log(v)).Within(1e-6));
        Assert.That(result.BitsPerSymbol, Is.EqualTo(Math.Log2(v)).Within(1e-6));
        // (n - 1) / 4 predictions per stream, 4 streams.
        Assert.That(result.Symbols, Is.EqualTo((ids.Length - 1) / 4 * 4));
    }

    [Test]
    public void ConstantLogitsGiveHandComputedCrossEntropy()
    {
        // Vocabulary {a, b}; logits (ln 3, 0) → p(a) = 3/4, p(b) = 1/4. Text "aab" + "a": targets a, b, a.
        var model = new CharLanguageModel(Vocabulary.FromText("ab"), new CharModelConfig(CellKind.Gru, 4, 2), 0);
        TinyModels.SetConstantLogits(model, [MathF.Log(3), 0]);
        var result = Evaluator.Evaluate(model, [0, 0, 1, 0], streams: 1);
        double expected = -(Math.Log(0.75) + Math.Log(0.25) + Math.Log(0.75)) / 3;
        Assert.That(result.NatsPerSymbol, Is.EqualTo(expected).Within(1e-6));
        Assert.That(result.Symbols, Is.EqualTo(3));
    }

    [Test]
    public void TooLittleTextIsRefused()
    {
        var model = TinyModels.Create();
        Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(model, [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.Evaluate(model, [1, 99]));
    }
}

[TestFixture]
public class SamplerTests
{
    private static CharLanguageModel FixedDistribution(double[] p)
    {
        var model = new CharLanguageModel(Vocabulary.FromText("abcd"), new CharModelConfig(CellKind.Rnn, 4), 0);
        TinyModels.SetConstantLogits(model, p.Select(x => (float)Math.Log(x)).ToArray());
        return model;
    }

    private static double[] Frequencies(string text)
    {
        var f = new double[4];
        foreach (char c in text) f[c - 'a']++;
        return f.Select(x => x / text.Length).ToArray();
    }

    [Test]
    public void FrequenciesFollowSoftmaxOfLogitsOverTemperature()
    {
        double[] p = [0.1, 0.2, 0.3, 0.4];
        var model = FixedDistribution(p);
        const int n = 20_000;
        var f1 = Frequencies(Sampler.Sample(model, new SamplingOptions { Length = n, Temperature = 1, Seed = 1, Prime = "a" }));
        // Temperature 0.5 squares the probabilities: p² / Σp² = (1, 4, 9, 16) / 30.
        var fHalf = Frequencies(Sampler.Sample(model, new SamplingOptions { Length = n, Temperature = 0.5, Seed = 2, Prime = "a" }));
        // Top-2 keeps c and d, renormalized: 3/7, 4/7.
        var fTop2 = Frequencies(Sampler.Sample(model, new SamplingOptions { Length = n, Temperature = 1, TopK = 2, Seed = 3, Prime = "a" }));
        double tol = 4 * Math.Sqrt(0.25 / n); // four standard deviations at worst
        for (int i = 0; i < 4; i++)
        {
            Assert.That(f1[i], Is.EqualTo(p[i]).Within(tol), $"T=1 symbol {i}");
            Assert.That(fHalf[i], Is.EqualTo(new[] { 1, 4, 9, 16 }[i] / 30.0).Within(tol), $"T=0.5 symbol {i}");
        }
        Assert.That(fTop2[0] + fTop2[1], Is.EqualTo(0));
        Assert.That(fTop2[2], Is.EqualTo(3 / 7.0).Within(tol));
    }

    [Test]
    public void GreedyTakesTheMostLikelySymbol()
    {
        var model = FixedDistribution([0.1, 0.5, 0.3, 0.1]);
        Assert.That(Sampler.Sample(model, new SamplingOptions { Length = 12, Greedy = true }), Is.EqualTo(new string('b', 12)));
    }

    [Test]
    public void SameSeedSameTextAndPrimeIsConsumed()
    {
        var model = TinyModels.Create(CellKind.Lstm, hidden: 12);
        var options = new SamplingOptions { Length = 80, Temperature = 1.0, Seed = 42, Prime = "the " };
        string a = Sampler.Sample(model, options);
        string b = Sampler.Sample(model, options);
        string c = Sampler.Sample(model, options with { Seed = 43 });
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
        Assert.That(a.Length, Is.EqualTo(80));
    }

    [Test]
    public void BadOptionsAreRefused()
    {
        var model = TinyModels.Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Generate(model, new SamplingOptions { Temperature = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Generate(model, new SamplingOptions { Temperature = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Generate(model, new SamplingOptions { Length = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Generate(model, new SamplingOptions { TopK = -1 }));
        Assert.Throws<UnknownSymbolException>(() => Sampler.Generate(model, new SamplingOptions { Prime = "XYZ" }));
    }
}

[TestFixture]
public class CheckpointTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TinyModels.TempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(CellKind.Rnn, 1)]
    [TestCase(CellKind.Gru, 2)]
    [TestCase(CellKind.Lstm, 2)]
    public void RoundTripKeepsWeightsVocabularyConfigAndLoss(CellKind cell, int layers)
    {
        var model = TinyModels.Create(cell, hidden: 6, layers: layers, text: "h\u00e9llo \U0001F600 world\n");
        string path = Path.Combine(_dir, "m.safetensors");
        Checkpoint.Save(path, model);
        var loaded = Checkpoint.Load(path);

        Assert.That(loaded.State, Is.Null);
        Assert.That(loaded.Model.Config, Is.EqualTo(model.Config));
        Assert.That(loaded.Model.Vocabulary.Symbols, Is.EqualTo(model.Vocabulary.Symbols));
        var before = model.Network.StateDict();
        var after = loaded.Model.Network.StateDict();
        Assert.That(after.Keys, Is.EquivalentTo(before.Keys));
        Assert.That(after.Keys, Does.Contain("layers.0.W_v"));
        foreach (var key in before.Keys)
            Assert.That(after[key].ToArray(), Is.EqualTo(before[key].ToArray()), key);

        var ids = model.Vocabulary.Encode("world h\u00e9llo\n\U0001F600 hold\n");
        Assert.That(Evaluator.Evaluate(loaded.Model, ids).NatsPerSymbol, Is.EqualTo(Evaluator.Evaluate(model, ids).NatsPerSymbol));
    }

    [Test]
    public void ParameterCountMatchesTheBuiltModel()
    {
        foreach (var cell in new[] { CellKind.Rnn, CellKind.Gru, CellKind.Lstm })
        {
            var model = TinyModels.Create(cell, hidden: 5, layers: 3);
            long actual = model.Network.Parameters().Sum(p => (long)p.Length);
            Assert.That(model.Config.ParameterCount(model.Vocabulary.Count), Is.EqualTo(actual), cell.ToString());
        }
    }

    [TestCase(CellKind.Rnn)]
    [TestCase(CellKind.Gru)]
    [TestCase(CellKind.Lstm)]
    public void OneHotInputRowsAreScaledBySqrtOfVocabulary(CellKind cell)
    {
        const int v = 9, h = 5, seed = 11;
        var net = new CharModelConfig(cell, h, 1).Build(v, seed);
        var options = new RecurrentOptions { Carry = CarryMode.PerSequence, Init = InitScheme.XavierOrthogonal, Seed = seed, ForgetGateBias = cell == CellKind.Lstm ? 1.0 : null };
        RecurrentLayer<float> plain = cell switch
        {
            CellKind.Rnn => new RnnLayer<float>(h, v, options),
            CellKind.Gru => new GruLayer<float>(h, v, options),
            _ => new LstmLayer<float>(h, v, options),
        };
        plain.Build(v);
        var built = net.StateDict();
        int scaled = 0;
        foreach (var (name, p) in plain.NamedParameters())
        {
            var expected = p.ToArray();
            var actual = built["layers.0." + name].ToArray();
            bool input = name.StartsWith("W_", StringComparison.Ordinal) && name != "W_v" && (cell != CellKind.Gru || name.StartsWith("W_x", StringComparison.Ordinal));
            for (int k = 0; k < expected.Length; k++)
            {
                // Rows 0..v-1 multiply the one-hot input; rows after them (RNN/LSTM) the hidden state.
                float factor = input && k < v * h ? MathF.Sqrt(v) : 1f;
                Assert.That(actual[k], Is.EqualTo(expected[k] * factor).Within(1e-6f), $"{name}[{k}]");
            }
            if (input) scaled++;
        }
        Assert.That(scaled, Is.EqualTo(cell switch { CellKind.Rnn => 1, CellKind.Gru => 3, _ => 4 }));
    }

    /// <summary>Writes a checkpoint, lets <paramref name="edit"/> change a copy of its parts, and rewrites it.</summary>
    private string Tampered(Action<Dictionary<string, Tensor<float>>, Dictionary<string, string>> edit)
    {
        var model = TinyModels.Create(CellKind.Lstm, hidden: 4);
        string good = Path.Combine(_dir, "good.safetensors");
        Checkpoint.Save(good, model);
        var file = SafeTensorsFile.Load(good);
        var tensors = file.Names.ToDictionary(n => n, n => file.GetTensor<float>(n));
        var meta = file.Metadata.ToDictionary(p => p.Key, p => p.Value);
        edit(tensors, meta);
        var writer = new SafeTensorsWriter();
        foreach (var (k, v) in tensors) writer.Add(k, v);
        foreach (var (k, v) in meta) writer.SetMetadata(k, v);
        string bad = Path.Combine(_dir, "bad.safetensors");
        writer.Save(bad);
        return bad;
    }

    private static readonly (string Name, Action<Dictionary<string, Tensor<float>>, Dictionary<string, string>> Edit, string Fragment)[] Tamperings =
    [
        ("missing tensor", (t, m) => t.Remove("layers.0.W_c"), "parameters but the file holds"),
        ("renamed tensor", (t, m) => { t["layers.0.W_x"] = t["layers.0.W_c"]; t.Remove("layers.0.W_c"); }, "'layers.0.W_c' is missing"),
        ("wrong shape", (t, m) => t["layers.0.W_v"] = t["layers.0.W_v"].Transpose(), "has shape"),
        ("NaN weight", (t, m) => { var a = t["layers.0.B_f"].ToArray(); a[0] = float.NaN; t["layers.0.B_f"] = Tensor.FromArray(a, 1, a.Length); }, "non-finite"),
        ("other format", (t, m) => m["format"] = "pytorch", "format"),
        ("no vocabulary", (t, m) => m.Remove("vocab"), "'vocab' is missing"),
        ("unsorted vocabulary", (t, m) => m["vocab"] = new string(m["vocab"].Reverse().ToArray()), "not a valid vocabulary"),
        ("bigger vocabulary", (t, m) => m["vocab"] += "~", "parameters but the file holds"),
        ("hidden not a number", (t, m) => m["model.hidden_size"] = "four", "hidden_size"),
        ("huge hidden size", (t, m) => m["model.hidden_size"] = "2000000000", "hidden_size"),
        ("hidden size mismatch", (t, m) => m["model.hidden_size"] = "4096", "parameters but the file holds"),
        ("unknown cell", (t, m) => m["model.cell"] = "transformer", "model.cell"),
        ("stray optimizer tensor", (t, m) => t["optim.m.layers.0.W_f"] = t["layers.0.W_f"], "without training metadata"),
        ("future version", (t, m) => m["format_version"] = "2", "version"),
    ];

    private static IEnumerable<TestCaseData> TamperCases() => Tamperings.Select((x, i) => new TestCaseData(i).SetName($"LoadRejects({x.Name})"));

    [TestCaseSource(nameof(TamperCases))]
    public void LoadRejectsInconsistentCheckpoints(int index)
    {
        var (_, edit, fragment) = Tamperings[index];
        string bad = Tampered(edit);
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(bad));
        Assert.That(e!.Message, Does.Contain(fragment).And.StartWith(bad).And.Not.Contain('\n'));
    }
}

[TestFixture]
public class TrainerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TinyModels.TempDir();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (CharLanguageModel Model, int[] Train, int[] Validation) Setup(int seed = 5, double dropout = 0)
    {
        string text = TinyModels.Corpus(30);
        var model = dropout == 0
            ? TinyModels.Create(CellKind.Lstm, hidden: 16, seed: seed)
            : new CharLanguageModel(Vocabulary.FromText(TinyModels.Text), new CharModelConfig(CellKind.Lstm, 16, Layers: 2, Dropout: dropout), seed);
        var (train, validation) = TextCorpus.Split(model.Vocabulary.Encode(text));
        return (model, train, validation);
    }

    private static readonly TrainingOptions Options = new()
    {
        SequenceLength = 12, BatchSize = 4, MaxSteps = 20, LearningRate = 1e-2, EvaluationInterval = 10,
        Schedule = LearningRateSchedule.Constant, ClipNorm = 1,
    };

    [Test]
    public void LearnsARepeatedSentence()
    {
        var (model, train, validation) = Setup();
        double initial = Evaluator.Evaluate(model, validation).NatsPerSymbol;
        var trainer = new CharTrainer(model, train, validation, Options with { MaxSteps = 150, EvaluationInterval = 50 });
        var evaluations = new List<EvaluationReport>();
        trainer.Evaluated += evaluations.Add;
        var result = trainer.Run();
        Assert.That(result.StepsThisRun, Is.EqualTo(150));
        Assert.That(trainer.History, Has.Count.EqualTo(150));
        Assert.That(evaluations.Select(e => e.Step), Is.EqualTo(new long[] { 50, 100, 150 }));
        Assert.That(initial, Is.GreaterThan(2.5), "an untrained model is near uniform over 28 symbols (ln 28 = 3.3)");
        Assert.That(result.LastValidation.NatsPerSymbol, Is.LessThan(1.0), "the sentence is nearly deterministic once learned");
    }

    [TestCase(0.0)]
    [TestCase(0.3)]
    public void ResumingGivesTheSameWeightsAsAnUninterruptedRun(double dropout)
    {
        var (straight, train, validation) = Setup(dropout: dropout);
        new CharTrainer(straight, train, validation, Options).Run();

        var (first, _, _) = Setup(dropout: dropout);
        string path = Path.Combine(_dir, "half.safetensors");
        new CharTrainer(first, train, validation, Options with { MaxSteps = 7 }) { LastCheckpointPath = path }.Run();
        var loaded = Checkpoint.Load(path);
        Assert.That(loaded.State, Is.Not.Null);
        Assert.That(loaded.State!.Step, Is.EqualTo(7));
        Assert.That(loaded.State.OptimizerState.Keys, Does.Contain("step").And.Contain("step.0").And.Contain("m.0").And.Contain("v.0"));
        Assert.That(loaded.State.CarriedState.Keys, Does.Contain("layers.0.h").And.Contain("layers.0.c"));
        Assert.That(loaded.State.DropoutMasksDrawn, Is.EqualTo(dropout > 0 ? 7 : 0), "one mask per training step between the two layers");

        var resumed = new CharTrainer(loaded.Model, train, validation, Options with { MaxSteps = 13 }, loaded.State);
        Assert.That(resumed.OptimizerStateRestored, Is.True);
        var result = resumed.Run();
        Assert.That(result.Step, Is.EqualTo(20));

        var expected = straight.Network.StateDict();
        foreach (var (key, value) in loaded.Model.Network.StateDict())
            Assert.That(value.ToArray(), Is.EqualTo(expected[key].ToArray()), key);

        if (dropout > 0)
        {
            // The same resume with the masks restarted from the first: the weights differ, so the check above can fail.
            var again = Checkpoint.Load(path);
            new CharTrainer(again.Model, train, validation, Options with { MaxSteps = 13 }, again.State! with { DropoutMasksDrawn = 0 }).Run();
            Assert.That(again.Model.Network.StateDict()["layers.0.W_f"].ToArray(), Is.Not.EqualTo(expected["layers.0.W_f"].ToArray()));
        }
    }

    [Test]
    public void CosineSchedule_DecaysFromThePeakToTheFinalFactor_ConstantStaysFlat()
    {
        var (model, train, validation) = Setup();
        const int N = 40;
        var cosine = new CharTrainer(model, train, validation, Options with
        {
            MaxSteps = N, Schedule = LearningRateSchedule.Cosine, LearningRate = 0.02, FinalLearningRateFactor = 0.25, EvaluationInterval = 1000,
        });
        var rates = new List<double>();
        cosine.StepCompleted += r => rates.Add(r.LearningRate);
        cosine.Run();
        Assert.That(rates, Has.Count.EqualTo(N));
        for (int k = 0; k < N; k++)
        {
            // Step k runs at progress k/N: lr = floor + (peak - floor)·(1 + cos(πk/N))/2, floor = 0.25·peak.
            double expected = 0.005 + 0.015 * (1 + Math.Cos(Math.PI * k / N)) / 2;
            Assert.That(rates[k], Is.EqualTo(expected).Within(1e-12), $"step {k}");
        }
        Assert.That(rates[0], Is.EqualTo(0.02));
        Assert.That(rates, Is.Ordered.Descending);
        Assert.That(rates[^1], Is.GreaterThan(0.005).And.LessThan(0.0051));

        var (model2, _, _) = Setup();
        var constant = new CharTrainer(model2, train, validation, Options with { MaxSteps = 5, LearningRate = 0.02, EvaluationInterval = 1000 });
        var flat = new List<double>();
        constant.StepCompleted += r => flat.Add(r.LearningRate);
        constant.Run();
        Assert.That(flat, Is.All.EqualTo(0.02));
    }

    [Test]
    public void BestCheckpointHoldsTheBestValidationLoss()
    {
        var (model, train, validation) = Setup();
        string best = Path.Combine(_dir, "best.safetensors");
        var trainer = new CharTrainer(model, train, validation, Options with { MaxSteps = 30 }) { BestCheckpointPath = best };
        var reports = new List<EvaluationReport>();
        trainer.Evaluated += reports.Add;
        var result = trainer.Run();
        var bestReport = reports.MinBy(r => r.Validation.NatsPerSymbol)!;
        Assert.That(result.BestValidationLoss, Is.EqualTo(bestReport.Validation.NatsPerSymbol));
        var loaded = Checkpoint.Load(best);
        Assert.That(loaded.State!.Step, Is.EqualTo(bestReport.Step));
        Assert.That(Evaluator.Evaluate(loaded.Model, validation).NatsPerSymbol, Is.EqualTo(bestReport.Validation.NatsPerSymbol).Within(1e-12));
    }

    [Test]
    public void TimeBudgetStopsTheRun()
    {
        var (model, train, validation) = Setup();
        var trainer = new CharTrainer(model, train, validation, Options with { MaxSteps = null, TimeBudget = TimeSpan.FromMilliseconds(300), EvaluationInterval = 1000 });
        var result = trainer.Run();
        Assert.That(result.StepsThisRun, Is.GreaterThan(0));
        Assert.That(result.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
    }

    [Test]
    public void InvalidSettingsAreRefused()
    {
        var (model, train, validation) = Setup();
        Assert.Throws<ArgumentOutOfRangeException>(() => new CharTrainer(model, train, validation, Options with { BatchSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CharTrainer(model, train, validation, Options with { LearningRate = -1 }));
        Assert.Throws<ArgumentException>(() => new CharTrainer(model, train, validation, Options with { MaxSteps = null }));
        Assert.Throws<ArgumentException>(() => new CharTrainer(model, train[..20], validation, Options));
        Assert.Throws<ArgumentException>(() => new CharTrainer(model, train, validation[..1], Options));
    }
}
