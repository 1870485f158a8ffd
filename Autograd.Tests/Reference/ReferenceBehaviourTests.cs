using Autograd;
using Autograd.Nn.Reference;
using Autograd.Tests.Golden;
using static Autograd.Tests.Reference.FiniteDifference;

namespace Autograd.Tests.Reference;

/// <summary>Forward values not covered by the golden set, layouts, state carry, float use and error messages of the reference oracles.</summary>
public class ReferenceBehaviourTests
{
    private static double Sig(double v) => 1 / (1 + Math.Exp(-v));

    [TestCase(false)]
    [TestCase(true)]
    public void GruForward_BothResetForms_MatchScalarFormulas(bool resetAfter)
    {
        // F = 1, H = 2, O = 1, B = 1: written out element by element, so the two forms visibly differ
        // ((r*h) @ W vs r * (h @ W) only differ when H > 1).
        var p = new ReferenceParameters<double>(ReferenceCellKind.Gru, 1, 2, 1);
        p.Randomize(new Random(3), 0.8);
        double[] x = [0.7], h = [-0.4, 0.9];
        double[] wxr = p.Value("W_xr"), whr = p.Value("W_hr"), br = p.Value("B_r");
        double[] wxu = p.Value("W_xu"), whu = p.Value("W_hu"), bu = p.Value("B_u");
        double[] wxh = p.Value("W_xh"), whh = p.Value("W_hh"), bh = p.Value("B_h");
        double[] wv = p.Value("W_v"), bv = p.Value("B_v");

        var expectedH = new double[2];
        var r = new double[2];
        for (int j = 0; j < 2; j++)
            r[j] = Sig(x[0] * wxr[j] + h[0] * whr[0 * 2 + j] + h[1] * whr[1 * 2 + j] + br[j]);
        for (int j = 0; j < 2; j++)
        {
            double u = Sig(x[0] * wxu[j] + h[0] * whu[0 * 2 + j] + h[1] * whu[1 * 2 + j] + bu[j]);
            double recurrent = resetAfter
                ? r[j] * (h[0] * whh[0 * 2 + j] + h[1] * whh[1 * 2 + j])
                : r[0] * h[0] * whh[0 * 2 + j] + r[1] * h[1] * whh[1 * 2 + j];
            double hBar = Math.Tanh(x[0] * wxh[j] + recurrent + bh[j]);
            expectedH[j] = u * h[j] + (1 - u) * hBar;
        }
        double expectedX = expectedH[0] * wv[0] + expectedH[1] * wv[1] + bv[0];

        var (xOut, hOut) = new GruNode<double>(p, resetAfter).Forward(x, h);
        Assert.That(hOut, Is.EqualTo(expectedH).Within(1e-14));
        Assert.That(xOut[0], Is.EqualTo(expectedX).Within(1e-14));

        var (_, otherH) = new GruNode<double>(p, !resetAfter).Forward(x, h);
        Assert.That(Math.Abs(otherH[0] - hOut[0]) + Math.Abs(otherH[1] - hOut[1]), Is.GreaterThan(1e-6), "the two reset forms should differ");
    }

    [TestCase("gru-seed1", GoldenCase.Base)]
    [TestCase("gru_ra-seed1", GoldenCase.Extended)]
    public void GoldenGru_RejectsTheOtherForm(string name, string set)
    {
        // Each golden GRU is one form; the other must not pass, or the golden check would be blind to the difference.
        var c = GoldenCase.Load(name, set);
        var model = c.BuildReferenceModel(flipGruForm: true);
        var output = model.Forward(c.Input.Data, c.Input.Shape[0], c.Input.Shape[1]);
        var (worst, _) = GoldenAssert.WorstError(output, c.Output.Data);
        Assert.That(worst, Is.GreaterThan(1e-3));
    }

    [Test]
    public void Layout_MatchesApiTable()
    {
        string Describe(ReferenceCellKind k) => string.Join(" ", ReferenceParameters<double>.Layout(k, 5, 8, 6).Select(e => $"{e.Name}({e.Rows},{e.Cols})"));
        Assert.That(Describe(ReferenceCellKind.Rnn), Is.EqualTo("W_f(13,8) B_f(1,8) W_v(8,6) B_v(1,6)"));
        Assert.That(Describe(ReferenceCellKind.Gru), Is.EqualTo(
            "W_xr(5,8) W_hr(8,8) B_r(1,8) W_xu(5,8) W_hu(8,8) B_u(1,8) W_xh(5,8) W_hh(8,8) B_h(1,8) W_v(8,6) B_v(1,6)"));
        Assert.That(Describe(ReferenceCellKind.Lstm), Is.EqualTo(
            "W_f(13,8) B_f(1,8) W_i(13,8) B_i(1,8) W_c(13,8) B_c(1,8) W_o(13,8) B_o(1,8) W_v(8,6) B_v(1,6)"));
    }

    [TestCase(ReferenceCellKind.Rnn)]
    [TestCase(ReferenceCellKind.Gru)]
    [TestCase(ReferenceCellKind.Lstm)]
    public void Forward_StoresBatchMeanOfFinalState_AndNextPassStartsFromIt(ReferenceCellKind kind)
    {
        const int batch = 3, time = 4, f = 2, h = 3, o = 2;
        var random = new Random(11);
        var layer = new ReferenceLayer<double>(kind, f, h, o);
        layer.Parameters.Randomize(random, 0.7);
        var input = Randn(random, batch * time * f);
        layer.Forward(input, batch, time);

        // Replay the same pass with nodes from zero state to get the final per-row state independently of the layer loop.
        double[] hState = new double[batch * h], cState = new double[batch * h];
        var x = new double[batch * f];
        for (int t = 0; t < time; t++)
        {
            for (int b = 0; b < batch; b++) Array.Copy(input, (b * time + t) * f, x, b * f, f);
            switch (kind)
            {
                case ReferenceCellKind.Rnn: (_, hState) = new RnnNode<double>(layer.Parameters).Forward(x, hState); break;
                case ReferenceCellKind.Gru: (_, hState) = new GruNode<double>(layer.Parameters).Forward(x, hState); break;
                default: (_, hState, cState) = new LstmNode<double>(layer.Parameters).Forward(x, hState, cState); break;
            }
        }
        for (int j = 0; j < h; j++)
        {
            Assert.That(layer.StartH[j], Is.EqualTo((hState[j] + hState[h + j] + hState[2 * h + j]) / 3).Within(1e-15));
            if (kind == ReferenceCellKind.Lstm)
                Assert.That(layer.StartC![j], Is.EqualTo((cState[j] + cState[h + j] + cState[2 * h + j]) / 3).Within(1e-15));
        }
        Assert.That(layer.StartC is null, Is.EqualTo(kind != ReferenceCellKind.Lstm));

        // The next pass starts from that state, so the same input gives a different output; ResetState restores the first.
        var second = layer.Forward(input, batch, time);
        layer.ResetState();
        var fresh = layer.Forward(input, batch, time);
        layer.ResetState();
        Assert.That(layer.Forward(input, batch, time), Is.EqualTo(fresh));
        Assert.That(second, Is.Not.EqualTo(fresh));
    }

    [Test]
    public void FloatModel_AgreesWithDouble()
    {
        const int batch = 2, time = 10, f = 3;
        var random = new Random(5);
        ReferenceLayer<T>[] Build<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        [
            new(ReferenceCellKind.Gru, f, 6, 4, gruResetAfter: true),
            new(ReferenceCellKind.Lstm, 4, 5, 3),
            new(ReferenceCellKind.Rnn, 3, 4, 2),
        ];
        var md = new ReferenceModel<double>(Build<double>());
        var mf = new ReferenceModel<float>(Build<float>());
        foreach (var l in md.Layers) l.Parameters.Randomize(random, 0.5);
        foreach (var key in md.Keys) mf.SetValue(key, Array.ConvertAll(md.Value(key), v => (float)v));
        var input = Randn(random, batch * time * f);
        var g = Randn(random, batch * time * 2);

        var outD = md.Forward(input, batch, time);
        var outF = mf.Forward(Array.ConvertAll(input, v => (float)v), batch, time);
        var dinD = md.Backward(g);
        var dinF = mf.Backward(Array.ConvertAll(g, v => (float)v));

        static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);
        double worst = GoldenAssert.Close(D(outF), outD, [batch, time, 2], "float output", 1e-4, 1e-6);
        worst = Math.Max(worst, GoldenAssert.Close(D(dinF), dinD, [batch, time, f], "float input gradient", 1e-4, 1e-6));
        foreach (var key in md.Keys)
            worst = Math.Max(worst, GoldenAssert.Close(D(mf.Grad(key)), md.Grad(key), md.Shape(key), $"float {key} gradient", 1e-4, 1e-6));
        TestContext.Out.WriteLine($"float vs double reference: max relative error {worst:E2}");
    }

    [Test]
    public void StateDict_RoundTripsAndTensorOverloadsAgree()
    {
        const int batch = 2, time = 3;
        var random = new Random(9);
        var a = new ReferenceModel<double>(new ReferenceLayer<double>(ReferenceCellKind.Lstm, 2, 3, 4), new ReferenceLayer<double>(ReferenceCellKind.Gru, 4, 3, 2));
        foreach (var l in a.Layers) l.Parameters.Randomize(random, 0.5);
        var b = new ReferenceModel<double>(new ReferenceLayer<double>(ReferenceCellKind.Lstm, 2, 3, 4), new ReferenceLayer<double>(ReferenceCellKind.Gru, 4, 3, 2));
        var state = a.StateDict();
        Assert.That(state.Keys, Is.EqualTo(a.Keys));
        Assert.That(state["layers.1.W_hh"].Shape.ToArray(), Is.EqualTo(new[] { 3, 3 }));
        b.LoadStateDict(state);

        var input = Randn(random, batch * time * 2);
        var g = Randn(random, batch * time * 2);
        var outA = a.Forward(input, batch, time);
        var outB = b.Forward(Tensor.FromArray(input, batch, time, 2));
        Assert.That(outB.Shape.ToArray(), Is.EqualTo(new[] { batch, time, 2 }));
        Assert.That(outB.ToArray(), Is.EqualTo(outA));
        var dA = a.Backward(g);
        var dB = b.Backward(Tensor.FromArray(g, batch, time, 2));
        Assert.That(dB.ToArray(), Is.EqualTo(dA));
        var gradsB = b.GradDict();
        foreach (var key in a.Keys) Assert.That(gradsB[key].ToArray(), Is.EqualTo(a.Grad(key)), key);

        // Gradients accumulate across backward passes until ZeroGrad.
        var once = (double[])a.Grad("layers.0.W_f").Clone();
        a.Backward(g);
        Assert.That(a.Grad("layers.0.W_f"), Is.EqualTo(once.Select(v => 2 * v).ToArray()).Within(1e-12));
        a.ZeroGrad();
        Assert.That(a.Grad("layers.0.W_f"), Is.All.EqualTo(0.0));
    }

    [Test]
    public void BadInput_ThrowsClearExceptions()
    {
        var p = new ReferenceParameters<double>(ReferenceCellKind.Rnn, 3, 4, 2);
        var node = new RnnNode<double>(p);
        Assert.That(() => node.Backward(new double[2], new double[4]),
            Throws.InvalidOperationException.With.Message.Contains("RnnNode.Backward"));
        Assert.That(() => node.Forward(new double[5], new double[4]),
            Throws.ArgumentException.With.Message.Contains("RnnNode.Forward").And.Message.Contains("input size 3"));
        Assert.That(() => node.Forward(new double[6], new double[4]),
            Throws.ArgumentException.With.Message.Contains("(2, 4)"));
        node.Forward(new double[6], new double[8]);
        Assert.That(() => node.Backward(new double[3], new double[8]),
            Throws.ArgumentException.With.Message.Contains("dXOut").And.Message.Contains("(2, 2)"));

        Assert.That(() => new GruNode<double>(p), Throws.ArgumentException.With.Message.Contains("Rnn"));
        Assert.That(() => p.Value("W_xr"), Throws.TypeOf<KeyNotFoundException>().With.Message.Contains("W_f"));
        Assert.That(() => p.SetValue("B_f", new double[3]), Throws.ArgumentException.With.Message.Contains("B_f (1, 4)"));

        var layer = new ReferenceLayer<double>(ReferenceCellKind.Lstm, 3, 4, 2);
        Assert.That(() => layer.Backward(new double[4]), Throws.InvalidOperationException);
        Assert.That(() => layer.Forward(new double[10], 2, 2), Throws.ArgumentException.With.Message.Contains("(2, 2, 3)"));
        Assert.That(() => layer.Forward(Tensor.Zeros<double>(2, 2, 4)), Throws.ArgumentException.With.Message.Contains("(2, 2, 4)"));
        Assert.That(() => new ReferenceLayer<double>(ReferenceCellKind.Lstm, 3, 4, 2, gruResetAfter: true), Throws.ArgumentException);

        Assert.That(() => new ReferenceModel<double>(layer, new ReferenceLayer<double>(ReferenceCellKind.Rnn, 3, 2, 2)),
            Throws.ArgumentException.With.Message.Contains("layer 1 takes 3 features but layer 0 outputs 2"));
        var model = new ReferenceModel<double>(layer);
        var state = model.StateDict();
        state.Remove("layers.0.B_o");
        Assert.That(() => model.LoadStateDict(state), Throws.ArgumentException.With.Message.Contains("missing key 'layers.0.B_o'"));
        state["layers.0.B_o"] = Tensor.Zeros<double>(4, 1);
        Assert.That(() => model.LoadStateDict(state), Throws.ArgumentException.With.Message.Contains("(1, 4)"));
        state["layers.0.B_o"] = Tensor.Zeros<double>(1, 4);
        state["layers.0.W_xr"] = Tensor.Zeros<double>(3, 4);
        Assert.That(() => model.LoadStateDict(state), Throws.ArgumentException.With.Message.Contains("unexpected key 'layers.0.W_xr'"));
    }
}
