using Autograd.Nn;
using Autograd.Nn.Testing;

namespace Autograd.Tests.Nn;

/// <summary>
/// The public gradient-check harness: our layers pass all three comparisons; a wrong backward, a
/// wrong reference and a module that drops its carried state are each caught and named; a user's
/// own cell with a user's own hand-derived reference plugs in.
/// </summary>
public class ModuleGradCheckTests
{
    private static readonly ModuleGradCheckOptions Shapes = new() { Shapes = [(1, 1), (2, 3), (3, 7)], Seed = 4 };

    private static RecurrentLayer<double> Layer(CellKind kind, bool resetAfter, int h, int o, CarryMode carry = CarryMode.BatchMean)
    {
        var options = new RecurrentOptions { Seed = 9, GruResetAfter = resetAfter, Carry = carry };
        RecurrentLayer<double> layer = kind switch
        {
            CellKind.Rnn => new RnnLayer<double>(h, o, options),
            CellKind.Gru => new GruLayer<double>(h, o, options),
            _ => new LstmLayer<double>(h, o, options),
        };
        return layer;
    }

    /// <summary>Parameters of N(0, 0.5²), biases too (the seed's N(0, 0.01²) leaves every gate nearly linear).</summary>
    private static void Randomize(Module<double> module, int seed)
    {
        var rng = new Random(seed);
        foreach (var p in module.Parameters())
            p.CopyFrom(Tensor.Randn<double>(rng, p.Shape.ToArray()).ToArray().Select(v => 0.5 * v).ToArray());
    }

    [TestCase(CellKind.Rnn, false)]
    [TestCase(CellKind.Gru, false)]
    [TestCase(CellKind.Gru, true)]
    [TestCase(CellKind.Lstm, false)]
    public void OurLayers_PassAutodiffVsFiniteDifferencesVsReference(CellKind kind, bool resetAfter)
    {
        var layer = Layer(kind, resetAfter, h: 5, o: 3);
        var target = GradCheckTarget.FromLayer(layer, inputSize: 4);
        Randomize(layer, 2);
        var report = ModuleGradCheck.Run(target, SeedReferenceCell.For(layer), Shapes);
        TestContext.Out.WriteLine(report.ToTable());
        Assert.That(report.Mismatches, Is.Empty, () => report.ToTable());

        string[] states = kind == CellKind.Lstm ? ["state h", "state c"] : ["state h"];
        Assert.That(report.Rows.Select(r => r.Quantity),
            Is.EqualTo(layer.NamedParameters().Select(p => p.Name).Append("input").Concat(states).Append("output")));
        foreach (var row in report.Rows.Where(r => r.Quantity != "output"))
        {
            Assert.That(row.Errors.Keys, Is.EquivalentTo(Enum.GetValues<GradCheckComparison>()), row.Quantity);
            Assert.That(row.Errors[GradCheckComparison.AutodiffVsReference].MaxRelative, Is.LessThan(1e-10), row.Quantity);
            Assert.That(row.Errors[GradCheckComparison.AutodiffVsFiniteDifferences].MaxRelative, Is.LessThan(1e-6), row.Quantity);
        }
        // Every parameter actually received a gradient: a check of zeros against zeros proves nothing.
        Assert.That(layer.Parameters().All(p => p.Grad!.ToArray().Any(v => Math.Abs(v) > 1e-3)));
    }

    /// <summary>y = x·W with W's gradient doubled (the input's is right): the forward is right, the backward is not.</summary>
    private static Tensor<double> DoubledGradient(Tensor<double> x, Tensor<double> w)
        => x.MatMul(w) + x.Detach().MatMul(w) - x.Detach().MatMul(w).Detach();

    [Test]
    public void WrongBackward_FailsAgainstFiniteDifferences_NamingParameterElementAndValues()
    {
        var rng = new Random(1);
        var w = Tensor.Randn<double>(rng, 3, 2);
        var b = Tensor.Randn<double>(rng, 1, 2);
        var target = GradCheckTarget.FromFunction("doubled", [("W", w), ("B", b)], 3, [],
            (x, _) => DoubledGradient(x.Reshape(-1, 3), w) + b);
        var report = ModuleGradCheck.Run(target, options: Shapes);

        Assert.That(report.Passed, Is.False);
        Assert.That(report.Mismatches.Select(m => m.Quantity).Distinct(), Is.EqualTo(new[] { "W" }), "only W's gradient is wrong");
        var row = report.Rows.Single(r => r.Quantity == "W");
        Assert.That(row.Errors[GradCheckComparison.AutodiffVsFiniteDifferences].MaxRelative, Is.EqualTo(1.0).Within(1e-6), "twice the true gradient");
        Assert.That(row.Errors.Keys, Is.EqualTo(new[] { GradCheckComparison.AutodiffVsFiniteDifferences }), "no reference, no reference columns");
        var ex = Assert.Throws<GradCheckException>(report.ThrowIfFailed)!;
        var first = report.Mismatches[0];
        Assert.That(ex.Message, Does.Contain("doubled").And.Contain("d loss / d W element [").And.Contain("autodiff").And.Contain("finite differences")
            .And.Contain(first.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(first.Value, Is.EqualTo(2 * first.Expected).Within(1e-6 * Math.Abs(first.Expected)));
        Assert.Throws<GradCheckException>(() => ModuleGradCheck.Assert(target, options: Shapes));
    }

    /// <summary>The seed's reference with one parameter's gradient off by 0.1%.</summary>
    private sealed class SkewedReference(IGradCheckReference inner, string parameter) : IGradCheckReference
    {
        public ReferenceResult Run(ReferenceRequest request)
        {
            var r = inner.Run(request);
            var grads = r.ParameterGradients.ToDictionary(p => p.Key, p => p.Key == parameter ? p.Value.Select(v => v * 1.001).ToArray() : p.Value);
            return r with { ParameterGradients = grads };
        }
    }

    [Test]
    public void WrongReference_FailsAgainstAutodiffAndFiniteDifferences_OursStillAgreesWithFiniteDifferences()
    {
        var layer = Layer(CellKind.Gru, false, h: 3, o: 2);
        var target = GradCheckTarget.FromLayer(layer, 2);
        Randomize(layer, 3);
        var report = ModuleGradCheck.Run(target, new SkewedReference(SeedReferenceCell.For(layer), "W_hu"), Shapes);
        Assert.That(report.Mismatches.Select(m => (m.Quantity, m.Comparison)).Distinct(),
            Is.EquivalentTo(new[] { ("W_hu", GradCheckComparison.AutodiffVsReference), ("W_hu", GradCheckComparison.ReferenceVsFiniteDifferences) }));
    }

    [Test]
    public void ModuleThatIgnoresItsInitialState_DisagreesWithTheReferenceOnTheState()
    {
        // A module that starts every pass from zeros whatever state it is given: its state gradient is zero
        // (and finite differences agree), but the reference starts from the state and the outputs differ.
        var layer = Layer(CellKind.Rnn, false, h: 3, o: 2, CarryMode.None);
        layer.Build(2);
        Randomize(layer, 5);
        var target = GradCheckTarget.FromFunction("drops its state", layer.NamedParameters(), 2, [("h", 3)], (x, _) => layer.Forward(x));
        var report = ModuleGradCheck.Run(target, SeedReferenceCell.For(layer), Shapes);
        Assert.That(report.Mismatches.Where(m => m.Comparison == GradCheckComparison.AutodiffVsFiniteDifferences), Is.Empty);
        Assert.That(report.Mismatches.Select(m => m.Quantity), Does.Contain("state h").And.Contain("output"));
    }

    /// <summary>
    /// FromLayer passes the state as the pass's explicit initial state, so the state gradient is really checked
    /// whatever the carry mode (CarryMode.None ignores a carried state set with SetState).
    /// </summary>
    [TestCase(CarryMode.None)]
    [TestCase(CarryMode.PerSequence)]
    [TestCase(CarryMode.BatchMean)]
    public void FromLayer_ChecksTheStateGradient_InEveryCarryMode(CarryMode carry)
    {
        var layer = Layer(CellKind.Lstm, false, h: 3, o: 2, carry);
        var target = GradCheckTarget.FromLayer(layer, 2);
        Randomize(layer, 5);
        var report = ModuleGradCheck.Run(target, SeedReferenceCell.For(layer), Shapes);
        Assert.That(report.Mismatches, Is.Empty, () => report.ToTable());

        var state = new[] { Tensor.Randn<double>(new Random(1), 2, 3), Tensor.Randn<double>(new Random(2), 2, 3) };
        foreach (var s in state) s.RequiresGrad = true;
        target.Forward(Tensor.Randn<double>(new Random(3), 2, 4, 2), state).Square().Sum().Backward();
        var grads = target.StateGradients(state);
        Assert.That(grads.Select(g => g!.ToArray().Any(v => Math.Abs(v) > 1e-6)), Is.All.True, "a non-zero gradient reaches h and c");
    }

    [Test]
    public void SeedReferenceFor_RefusesLayersItsNodesDoNotModel()
    {
        var bias = new GruLayer<double>(3, 2, new RecurrentOptions { RecurrentBias = true });
        bias.Build(2);
        Assert.That(() => SeedReferenceCell.For(bias), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("RecurrentBias"));
        var unprojected = new LstmLayer<double>(3, new RecurrentOptions());
        unprojected.Build(2);
        Assert.That(() => SeedReferenceCell.For(unprojected), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("output projection"));
    }

    // --- a user's own cell and a user's own hand-derived reference node ---

    /// <summary>A user's minimal cell, composed from engine ops: h' = tanh(x·W + h·U + b), output h'.</summary>
    private static GradCheckTarget UserCell(Tensor<double> w, Tensor<double> u, Tensor<double> bias, int f, int h)
        => GradCheckTarget.FromFunction("user tanh cell", [("W", w), ("U", u), ("b", bias)], f, [("h", h)], (x, state) =>
        {
            int batch = x.Size(0), time = x.Size(1);
            var hs = state[0];
            var outputs = new Tensor<double>[time];
            for (int t = 0; t < time; t++)
            {
                hs = (x.Slice(1, t, 1).Reshape(batch, f).MatMul(w) + hs.MatMul(u) + bias).Tanh();
                outputs[t] = hs;
            }
            return Tensor.Stack(1, outputs);
        });

    /// <summary>The same cell written by hand, the seed's way: forward caches, explicit backward.</summary>
    private sealed class UserReferenceCell(int f, int h) : IReferenceCell
    {
        private readonly Dictionary<string, double[]> _values = [], _grads = [];

        public int InputSize => f;
        public int OutputSize => h;
        public IReadOnlyDictionary<string, double[]> Gradients => _grads;

        public void Load(IReadOnlyDictionary<string, double[]> parameters)
        {
            foreach (var (k, v) in parameters) { _values[k] = (double[])v.Clone(); _grads[k] = new double[v.Length]; }
        }

        public IReferenceStep CreateStep() => new Step(this);

        private sealed class Step(UserReferenceCell cell) : IReferenceStep
        {
            private double[] _x = [], _h = [], _out = [];
            private int _b;

            public (double[] Output, double[][] State) Forward(double[] x, double[][] state, int batch)
            {
                int f = cell.InputSize, h = cell.OutputSize;
                var w = cell._values["W"]; var u = cell._values["U"]; var bias = cell._values["b"];
                var y = new double[batch * h];
                for (int i = 0; i < batch; i++)
                    for (int j = 0; j < h; j++)
                    {
                        double a = bias[j];
                        for (int k = 0; k < f; k++) a += x[i * f + k] * w[k * h + j];
                        for (int k = 0; k < h; k++) a += state[0][i * h + k] * u[k * h + j];
                        y[i * h + j] = Math.Tanh(a);
                    }
                (_x, _h, _out, _b) = (x, state[0], y, batch);
                return (y, [y]);
            }

            public (double[] DX, double[][] DState) Backward(double[] dOutput, double[][] dState)
            {
                int f = cell.InputSize, h = cell.OutputSize;
                var w = cell._values["W"]; var u = cell._values["U"];
                var gw = cell._grads["W"]; var gu = cell._grads["U"]; var gb = cell._grads["b"];
                var dx = new double[_b * f];
                var dh = new double[_b * h];
                for (int i = 0; i < _b; i++)
                    for (int j = 0; j < h; j++)
                    {
                        double y = _out[i * h + j];
                        double da = (dOutput[i * h + j] + dState[0][i * h + j]) * (1 - y * y);
                        gb[j] += da;
                        for (int k = 0; k < f; k++) { gw[k * h + j] += _x[i * f + k] * da; dx[i * f + k] += w[k * h + j] * da; }
                        for (int k = 0; k < h; k++) { gu[k * h + j] += _h[i * h + k] * da; dh[i * h + k] += u[k * h + j] * da; }
                    }
                return (dx, [dh]);
            }
        }
    }

    [Test]
    public void UsersOwnCellAndOwnReferenceNode_PlugIn()
    {
        const int F = 3, H = 4;
        var rng = new Random(6);
        var w = Tensor.Randn<double>(rng, F, H);
        var u = Tensor.Randn<double>(rng, H, H);
        var bias = Tensor.Randn<double>(rng, 1, H);
        var report = ModuleGradCheck.Assert(UserCell(w, u, bias, F, H), new UnrolledReference(new UserReferenceCell(F, H)), Shapes);
        Assert.That(report.Rows.Select(r => r.Quantity), Is.EqualTo(new[] { "W", "U", "b", "input", "state h", "output" }));
        TestContext.Out.WriteLine(report.ToTable());
    }

    [Test]
    public void BadOptionsAndMismatchedReferences_AreRefusedWithClearErrors()
    {
        var layer = Layer(CellKind.Lstm, false, 2, 2);
        var target = GradCheckTarget.FromLayer(layer, 2);
        Assert.That(() => ModuleGradCheck.Run(target, options: new() { Shapes = [] }), Throws.ArgumentException.With.Message.Contains("shape"));
        Assert.That(() => ModuleGradCheck.Run(target, options: new() { Shapes = [(0, 2)] }), Throws.ArgumentException.With.Message.Contains("batch 0"));
        Assert.That(() => ModuleGradCheck.Run(target, options: new() { FiniteDifferenceStep = 0 }), Throws.ArgumentException.With.Message.Contains("FiniteDifferenceStep"));
        // A GRU reference for an LSTM layer has other parameter names.
        var gru = new UnrolledReference(new SeedReferenceCell(Autograd.Nn.Reference.ReferenceCellKind.Gru, 2, 2, 2));
        Assert.That(() => ModuleGradCheck.Run(target, gru, Shapes), Throws.ArgumentException.With.Message.Contains("W_hr").Or.Message.Contains("W_xr"));
        Assert.That(() => GradCheckTarget.FromFunction("dup", [("a", Tensor.Zeros<double>(1))], 1, [("a", 1)], (x, _) => x),
            Throws.ArgumentException.With.Message.Contains("distinct"));
        Assert.That(() => SeedReferenceCell.For(Layer(CellKind.Rnn, false, 2, 2)), Throws.ArgumentException.With.Message.Contains("build"));
    }
}
