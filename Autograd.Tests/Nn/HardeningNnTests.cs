using Autograd.CharLm;
using Autograd.Nn;
using static Autograd.Tests.Nn.OptimizerAndLossTests;

namespace Autograd.Tests.Nn;

/// <summary>
/// Issue 13, classes 4–7 and Init: all-or-nothing state loading, SetState copies, per-parameter optimizer
/// step counts and the optimizer's refusals, clipping huge float gradients. Each test fails on the code before the fix.
/// </summary>
public class HardeningNnTests
{
    private static RnnModel<double> Stack() => new(new LstmLayer<double>(3, 4), new GruLayer<double>(5, 2), new RnnLayer<double>(2, 6));

    /// <summary>A complete state dict for <see cref="Stack"/> built for 7 input features.</summary>
    private static Dictionary<string, Tensor<double>> FullState()
    {
        var source = Stack();
        source.Build(7);
        return source.StateDict().ToDictionary(p => p.Key, p => p.Value);
    }

    public static IEnumerable<TestCaseData> BadStates()
    {
        TestCaseData C(string name, Action<Dictionary<string, Tensor<double>>> spoil, string mention)
            => new TestCaseData(spoil, mention).SetArgDisplayNames(name);
        yield return C("missing key of the last layer", d => d.Remove("layers.2.B_v"), "layers.2.B_v");
        yield return C("extra key", d => d["layers.1.W_q"] = Tensor.Zeros<double>(1), "layers.1.W_q");
        yield return C("mis-shaped key", d => d["layers.1.B_u"] = Tensor.Zeros<double>(1, 4), "layers.1.B_u");
        yield return C("null value", d => d["layers.0.W_i"] = null!, "layers.0.W_i");
    }

    [TestCaseSource(nameof(BadStates))]
    public void LoadStateDict_Refused_LeavesAnUnbuiltModelUnbuilt(Action<Dictionary<string, Tensor<double>>> spoil, string mention)
    {
        var state = FullState();
        spoil(state);
        var model = Stack();
        var e = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state))!;
        Assert.That(e.Message, Does.Contain(mention));
        Assert.That(e.ParamName, Is.EqualTo("state"));
        Assert.That(model.Parameters(), Is.Empty, "no parameters were created");
        Assert.That(model.Layers.Select(l => l.InputSize), Is.All.Null);

        // The same dict made whole loads into the very same model.
        model.LoadStateDict(FullState());
        Assert.That(model.Layers.Select(l => l.InputSize), Is.EqualTo(new int?[] { 7, 4, 2 }));
    }

    [Test]
    public void LoadStateDict_Refused_LeavesAnUnbuiltLayerUnbuilt_AndABuiltOneUnchanged()
    {
        var source = new LstmLayer<double>(3, 2);
        source.Build(4);
        var state = source.StateDict().Where(p => p.Key != "B_o").ToDictionary(p => p.Key, p => p.Value);
        var layer = new LstmLayer<double>(3, 2);
        Assert.That(() => layer.LoadStateDict(state), Throws.ArgumentException.With.Message.Contains("'B_o'"));
        Assert.That(layer.InputSize, Is.Null);
        Assert.That(layer.Parameters(), Is.Empty);

        var built = new LstmLayer<double>(3, 2, new() { Seed = 9 });
        built.Build(4);
        var before = built.Parameters().Select(p => p.ToArray()).ToArray();
        var wrong = source.StateDict().ToDictionary(p => p.Key, p => p.Value);
        wrong["W_v"] = Tensor.Zeros<double>(2, 3);
        Assert.That(() => built.LoadStateDict(wrong), Throws.ArgumentException.With.Message.Contains("'W_v'"));
        Assert.That(built.Parameters().Select(p => p.ToArray()), Is.EqualTo(before), "nothing was copied");
    }

    [Test]
    public void SetState_KeepsCopies_NotTheCallersStorage()
    {
        var h = Tensor.FromArray(new[] { 0.5, -0.25, 0.75 }, 1, 3);
        var c = Tensor.FromArray(new[] { 0.1, 0.2, -0.3 }, 1, 3);
        var x = Tensor.Randn<double>(new Random(4), 2, 3, 5);
        var layer = new LstmLayer<double>(3, 2, new() { Seed = 1 });
        layer.SetState(h, c);
        var twin = new LstmLayer<double>(3, 2, new() { Seed = 1 });
        twin.SetState(Tensor.FromArray(h.ToArray(), 1, 3), Tensor.FromArray(c.ToArray(), 1, 3));

        h.CopyFrom(new double[3]);  // the caller reuses its buffers
        c.Fill(7.0);

        Assert.That(layer.StartH!.ToArray(), Is.EqualTo(new[] { 0.5, -0.25, 0.75 }));
        Assert.That(layer.StartC!.ToArray(), Is.EqualTo(new[] { 0.1, 0.2, -0.3 }));
        Assert.That(layer.Forward(x).ToArray(), Is.EqualTo(twin.Forward(x).ToArray()));
    }

    [Test]
    public void Adam_CountsStepsPerParameter_AsPyTorch()
    {
        // p's gradient arrives at step 1, q's first at step 2: PyTorch's Adam corrects q as at its first step,
        // so q moves by lr·g/(|g| + ε) ≈ lr = 0.1 (a global count t = 2 would move it by 0.0744).
        var p = Param(1.0);
        var q = Param(2.0);
        var adam = new Adam<double>([p, q], 0.1);
        SetGrad(p, 0.5);
        Assert.That(q.Grad, Is.Null, "q is not reached by the first pass");
        adam.Step();
        Assert.That(q.Item(), Is.EqualTo(2.0), "a parameter without a gradient is skipped");
        Assert.That((adam.ParameterStepCount(0), adam.ParameterStepCount(1)), Is.EqualTo((1L, 0L)));

        SetGrad(p, 0.5);
        SetGrad(q, -3.0);
        adam.Step();
        Assert.That(q.Item(), Is.EqualTo(2.0 + 0.1 * 3.0 / (3.0 + 1e-8)).Within(1e-15));
        Assert.That((adam.ParameterStepCount(0), adam.ParameterStepCount(1), adam.StepCount), Is.EqualTo((2L, 1L, 2L)));

        // From now on q has a (zeroed) gradient tensor: like torch with zero_grad(set_to_none=False), it is
        // updated with a zero gradient and its count advances, its moments decaying.
        SetGrad(p, 0.5);
        q.ZeroGrad();
        double qBefore = q.Item();
        adam.Step();
        double m = 0.9 * (0.1 * -3.0), v = 0.999 * (0.001 * 9.0);
        double expected = qBefore - 0.1 * (m / (1 - 0.9 * 0.9)) / (Math.Sqrt(v / (1 - 0.999 * 0.999)) + 1e-8);
        Assert.That(q.Item(), Is.EqualTo(expected).Within(1e-15));
        Assert.That(adam.ParameterStepCount(1), Is.EqualTo(2));
    }

    [Test]
    public void Optimizer_PerParameterCounts_RoundTripThroughTheStateDict()
    {
        double[][] grads = [[0.3], [-0.2], [0.7], [0.1]];
        var (p1, q1) = (Param(1.0), Param(2.0));
        var (p2, q2) = (Param(1.0), Param(2.0));
        var a = new Adam<double>([p1, q1], 0.05);
        var b = new Adam<double>([p2, q2], 0.05);
        SetGrad(p1, grads[0]); a.Step();
        SetGrad(p2, grads[0]); b.Step();
        SetGrad(q1, grads[1]); a.Step();
        SetGrad(q2, grads[1]); b.Step();
        var saved = b.StateDict();
        Assert.That(saved.Keys, Is.EquivalentTo(new[] { "step", "step.0", "step.1", "m.0", "m.1", "v.0", "v.1" }));
        Assert.That((saved["step"].Item(), saved["step.0"].Item(), saved["step.1"].Item()), Is.EqualTo((2.0, 2.0, 1.0)));

        var restored = new Adam<double>([p2, q2], 0.05);
        restored.LoadStateDict(saved);
        Assert.That((restored.ParameterStepCount(0), restored.ParameterStepCount(1)), Is.EqualTo((2L, 1L)));
        for (int i = 2; i < 4; i++)
        {
            SetGrad(p1, grads[i]); SetGrad(q1, grads[i]); a.Step();
            SetGrad(p2, grads[i]); SetGrad(q2, grads[i]); restored.Step();
        }
        Assert.That(new[] { p2.Item(), q2.Item() }, Is.EqualTo(new[] { p1.Item(), q1.Item() }), "bitwise");
    }

    [Test]
    public void Optimizer_StateDictWithoutPerParameterCounts_UsesTheGlobalCount()
    {
        var p = Param(1.0);
        var adam = new Adam<double>([p], 0.1);
        adam.LoadStateDict(new Dictionary<string, Tensor<double>>
        {
            ["step"] = Tensor.FromArray(new[] { 5.0 }, 1), ["m.0"] = Tensor.FromArray(new[] { 0.2 }, 1), ["v.0"] = Tensor.FromArray(new[] { 0.01 }, 1),
        });
        Assert.That(adam.ParameterStepCount(0), Is.EqualTo(5), "a dict written with one global count meant it for every parameter with state");
    }

    public static IEnumerable<TestCaseData> BadOptimizerStates()
    {
        TestCaseData C(string key, Tensor<double>? value) => new TestCaseData(key, value).SetArgDisplayNames($"{key} = {value?.ToString() ?? "null"}");
        yield return C("step", Tensor.FromArray(new[] { double.NaN }, 1));
        yield return C("step", Tensor.FromArray(new[] { 1e300 }, 1));
        yield return C("step", Tensor.FromArray(new[] { -1.0 }, 1));
        yield return C("step", Tensor.FromArray(new[] { 2.5 }, 1));
        yield return C("step", Tensor.FromArray(new[] { 1.0, 2.0 }, 2));
        yield return C("step", null);
        yield return C("step.0", Tensor.FromArray(new[] { double.PositiveInfinity }, 1));
        yield return C("m.0", null);
        yield return C("step.1", Tensor.FromArray(new[] { 1.0 }, 1));
    }

    [TestCaseSource(nameof(BadOptimizerStates))]
    public void Optimizer_LoadStateDict_RefusesBadEntries_ByKey_ChangingNothing(string key, Tensor<double>? value)
    {
        var p = Param(1.0);
        var adam = new Adam<double>([p], 0.1);
        SetGrad(p, 0.5);
        adam.Step();
        var before = adam.StateDict().ToDictionary(e => e.Key, e => e.Value.ToArray());
        var state = new Dictionary<string, Tensor<double>> { ["step"] = Tensor.FromArray(new[] { 3.0 }, 1), [key] = value! };
        var e = Assert.Throws<ArgumentException>(() => adam.LoadStateDict(state))!;
        Assert.That(e.Message, Does.Contain($"'{key}'"));
        Assert.That(adam.StateDict().ToDictionary(x => x.Key, x => x.Value.ToArray()), Is.EqualTo(before));
    }

    [Test]
    public void Optimizer_LoadStateDict_RefusesMomentsWithoutTheirStepCounts()
    {
        // Moments without a count would restart Adam's bias correction at step 1 on old moments.
        var (p, q) = (Param(1.0), Param(2.0));
        var adam = new Adam<double>([p, q], 0.1);
        SetGrad(p, 0.5); SetGrad(q, 0.25);
        adam.Step();
        var before = adam.StateDict().ToDictionary(e => e.Key, e => e.Value.ToArray());
        var moments = new Dictionary<string, Tensor<double>>
        {
            ["m.0"] = Tensor.FromArray(new[] { 0.2 }, 1), ["v.0"] = Tensor.FromArray(new[] { 0.01 }, 1),
            ["m.1"] = Tensor.FromArray(new[] { 0.1 }, 1), ["v.1"] = Tensor.FromArray(new[] { 0.02 }, 1),
        };
        Assert.That(() => adam.LoadStateDict(moments), Throws.ArgumentException.With.Message.Contains("'step'"));
        var oneCountMissing = new Dictionary<string, Tensor<double>>(moments) { ["step"] = Tensor.FromArray(new[] { 7.0 }, 1), ["step.0"] = Tensor.FromArray(new[] { 7.0 }, 1) };
        Assert.That(() => adam.LoadStateDict(oneCountMissing), Throws.ArgumentException.With.Message.Contains("'step.1'"));
        Assert.That(adam.StateDict().ToDictionary(x => x.Key, x => x.Value.ToArray()), Is.EqualTo(before), "nothing changed");

        // SGD keeps no counts: its momentum needs only the global step.
        var sgd = new Sgd<double>([p], 0.1, new SgdOptions(Momentum: 0.9));
        Assert.That(() => sgd.LoadStateDict(new Dictionary<string, Tensor<double>> { ["momentum.0"] = Tensor.FromArray(new[] { 0.2 }, 1) }),
            Throws.ArgumentException.With.Message.Contains("'step'"));
    }

    [Test]
    public void Optimizer_WithAParameterListedTwice_IsRefused()
    {
        var p = Param(1.0);
        Assert.That(() => new Adam<double>([p, Param(2.0), p], 0.1), Throws.ArgumentException
            .With.Message.Contains("parameters[0]").And.Message.Contains("parameters[2]"));
        Assert.That(() => new Sgd<double>([p, p], 0.1), Throws.ArgumentException.With.Message.Contains("twice"));
    }

    [Test]
    public void Optimizer_WithNoParameters_IsRefused_NamingTheLazyBuildMistake()
    {
        var model = new RnnModel<float>(new LstmLayer<float>(8, 3));   // not built: no parameters yet
        var e = Assert.Throws<ArgumentException>(() => new Adam<float>(model.Parameters(), 0.01f))!;
        Assert.That(e.ParamName, Is.EqualTo("parameters"));
        Assert.That(e.Message, Does.Contain("empty").And.Contain("Forward").And.Contain("Build"));
        Assert.That(() => new Sgd<double>([], 0.1), Throws.ArgumentException.With.Message.Contains("Sgd"));
        model.Build(3);
        Assert.That(new Adam<float>(model.Parameters(), 0.01f).StepCount, Is.Zero);
    }

    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void InitNormal_RefusesANegativeOrNonFiniteStd(double std)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Init.Normal<float>(new Random(1), std, 2, 2))!;
        Assert.That(e.ParamName, Is.EqualTo("std"));
        Assert.That(Init.Normal<float>(new Random(1), 0.0, 2, 2).ToArray(), Is.All.EqualTo(0f), "σ = 0 is allowed (all zeros)");
    }

    [Test]
    public void ClipNorm_OfHugeButFiniteFloatGradients_Clips_AndANullParameterChangesNothing()
    {
        var p = Tensor.Zeros<float>(2);
        p.RequiresGrad = true;
        (p * Tensor.FromArray(new[] { 1e20f, 1e20f }, 2)).Sum().Backward();
        float norm = GradClip.ClipNorm([p], 1f);
        Assert.That(norm, Is.EqualTo(Math.Sqrt(2) * 1e20).Within(1e-5).Percent, "the norm is finite in float (to float rounding)");
        Assert.That(p.Grad!.ToArray(), Is.EqualTo(new[] { 1 / MathF.Sqrt(2), 1 / MathF.Sqrt(2) }).Within(1e-6f));

        var before = p.Grad.ToArray();
        var e = Assert.Throws<ArgumentException>(() => GradClip.ClipValue([p, null!], 0.1f))!;
        Assert.That((e.ParamName, e.Message.Contains("parameters[1]")), Is.EqualTo(("parameters", true)));
        Assert.That(p.Grad.ToArray(), Is.EqualTo(before), "checked before anything is clamped");
        Assert.That(() => GradClip.ClipNorm<float>([null!], 1f), Throws.ArgumentException.With.Message.Contains("parameters[0]"));
    }

    [Test]
    public void Checkpoint_KeepsPerParameterStepCounts()
    {
        var model = new CharLanguageModel(Vocabulary.FromText("abc"), new CharModelConfig(CellKind.Gru, HiddenSize: 4), 1);
        var names = model.Network.NamedParameters().Select(p => p.Name).ToArray();
        var first = model.Network.Parameters().First();
        var optimizerState = new Dictionary<string, Tensor<float>>
        {
            ["step"] = Tensor.FromArray(new[] { 9f }, 1),
            ["step.0"] = Tensor.FromArray(new[] { 4f }, 1),
            ["m.0"] = Tensor.Ones<float>(first.Shape.ToArray()),
        };
        string dir = Directory.CreateTempSubdirectory("autograd-steps-").FullName;
        try
        {
            string path = Path.Combine(dir, "c.safetensors");
            Checkpoint.Save(path, model, new TrainingState { Step = 9, OptimizerState = optimizerState });
            var state = Checkpoint.Load(path).State!;
            Assert.That(state.OptimizerState.Keys, Is.EquivalentTo(new[] { "step", "step.0", "m.0" }));
            Assert.That(state.OptimizerState["step.0"].ToArray(), Is.EqualTo(new[] { 4f }));

            optimizerState["step.0"] = Tensor.FromArray(new[] { 2.5f }, 1);
            Checkpoint.Save(path, model, new TrainingState { Step = 9, OptimizerState = optimizerState });
            Assert.That(() => Checkpoint.Load(path), Throws.InstanceOf<Autograd.Nn.Serialization.CheckpointFormatException>()
                .With.Message.Contains($"optim.step.{names[0]}"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
