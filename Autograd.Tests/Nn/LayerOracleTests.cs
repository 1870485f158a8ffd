using Autograd.Nn;
using Autograd.Nn.Reference;
using Autograd.Tests.Golden;

namespace Autograd.Tests.Nn;

/// <summary>
/// The composed layers against two independent oracles: PyTorch golden values and the
/// hand-derived reference nodes (Autograd.Nn.Reference), in double.
/// </summary>
[TestFixture("cpu")]
[TestFixture("reference")]
public class LayerOracleTests(string backend) : BackendFixture(backend)
{
    private static RecurrentLayer<double> Layer(ReferenceCellKind kind, int hidden, int output, bool resetAfter = false) => kind switch
    {
        ReferenceCellKind.Rnn => new RnnLayer<double>(hidden, output),
        ReferenceCellKind.Gru => new GruLayer<double>(hidden, output, new() { GruResetAfter = resetAfter }),
        _ => new LstmLayer<double>(hidden, output),
    };

    public static IEnumerable<TestCaseData> GoldenCases()
        => GoldenCase.CaseNames(GoldenCase.Base).Select(n => new TestCaseData(n, GoldenCase.Base).SetArgDisplayNames(n))
            .Concat(GoldenCase.CaseNames(GoldenCase.Extended).Select(n => new TestCaseData(n, GoldenCase.Extended).SetArgDisplayNames("ext " + n)));

    [TestCaseSource(nameof(GoldenCases))]
    public void ComposedModel_MatchesPyTorchGolden(string name, string set)
    {
        var g = GoldenCase.Load(name, set);
        var model = new RnnModel<double>(g.Layers.Select(l => Layer(l.CellKind, l.HiddenSize, l.OutputSize, l.GruResetAfter)).ToArray());
        model.LoadStateDict(g.Parameters.ToDictionary(p => p.Key, p => p.Value.ToTensor<double>()));
        var x = g.Input.ToTensor<double>();
        x.RequiresGrad = true;

        var y = model.Forward(x);
        double worst = GoldenAssert.Close(y.AsSpan(), g.Output, "output");
        y.Backward(g.G.ToTensor<double>()); // loss = sum(output * G)
        foreach (var (key, p) in model.NamedParameters())
            worst = Math.Max(worst, GoldenAssert.Close(p.Grad!.AsSpan(), g.Gradients[key], $"d loss / d {key}"));
        worst = Math.Max(worst, GoldenAssert.Close(x.Grad!.AsSpan(), g.InputGradient, "d loss / d input"));

        // The second batch starts from the carried (batch-mean, detached) state; golden-ext differentiates it.
        model.ZeroGrad();
        var x2 = g.SecondInput.ToTensor<double>();
        if (g.SecondG is null)
        {
            using (Tensor.NoGrad())
                worst = Math.Max(worst, GoldenAssert.Close(model.Forward(x2).AsSpan(), g.SecondOutput, "second batch output (carried state)"));
        }
        else
        {
            x2.RequiresGrad = true;
            var y2 = model.Forward(x2);
            worst = Math.Max(worst, GoldenAssert.Close(y2.AsSpan(), g.SecondOutput, "second batch output (carried state)"));
            y2.Backward(g.SecondG.ToTensor<double>());
            foreach (var (key, p) in model.NamedParameters())
                worst = Math.Max(worst, GoldenAssert.Close(p.Grad!.AsSpan(), g.SecondGradients[key], $"second pass: d loss / d {key}"));
            worst = Math.Max(worst, GoldenAssert.Close(x2.Grad!.AsSpan(), g.SecondInputGradient!, "second pass: d loss / d input"));
        }
        TestContext.Out.WriteLine($"{set}/{name}: largest relative error vs PyTorch golden = {worst:E2}");
    }

    public static IEnumerable<TestCaseData> ReferenceCases()
    {
        (ReferenceCellKind Kind, int H, int O, bool ResetAfter)[] L(params (ReferenceCellKind, int, int, bool)[] l) => l;
        yield return new TestCaseData(L((ReferenceCellKind.Rnn, 6, 4, false)), 3, 50, 5).SetName("Rnn_B3_T50");
        yield return new TestCaseData(L((ReferenceCellKind.Gru, 6, 4, false)), 3, 50, 5).SetName("Gru_B3_T50");
        yield return new TestCaseData(L((ReferenceCellKind.Gru, 6, 4, true)), 3, 50, 5).SetName("GruResetAfter_B3_T50");
        yield return new TestCaseData(L((ReferenceCellKind.Lstm, 6, 4, false)), 3, 50, 5).SetName("Lstm_B3_T50");
        yield return new TestCaseData(L((ReferenceCellKind.Lstm, 9, 7, false)), 1, 3, 2).SetName("Lstm_B1_T3");
        yield return new TestCaseData(L((ReferenceCellKind.Gru, 5, 6, false), (ReferenceCellKind.Lstm, 7, 3, false)), 2, 12, 4).SetName("Gru_Lstm_B2_T12");
        yield return new TestCaseData(L((ReferenceCellKind.Lstm, 5, 6, false), (ReferenceCellKind.Rnn, 4, 5, false), (ReferenceCellKind.Gru, 6, 3, true)), 4, 60, 3).SetName("Lstm_Rnn_GruResetAfter_B4_T60");
        // Padded batches (PyTorch's packed sequences): ended rows keep their state and output zero.
        int[] lengths = [9, 3, 1, 6];
        yield return new TestCaseData(L((ReferenceCellKind.Rnn, 5, 4, false)), 4, 9, 3, lengths).SetName("Rnn_Lengths");
        yield return new TestCaseData(L((ReferenceCellKind.Gru, 5, 4, false)), 4, 9, 3, lengths).SetName("Gru_Lengths");
        yield return new TestCaseData(L((ReferenceCellKind.Gru, 5, 4, true)), 4, 9, 3, lengths).SetName("GruResetAfter_Lengths");
        yield return new TestCaseData(L((ReferenceCellKind.Lstm, 5, 4, false)), 4, 9, 3, lengths).SetName("Lstm_Lengths");
        yield return new TestCaseData(L((ReferenceCellKind.Lstm, 6, 5, false), (ReferenceCellKind.Gru, 4, 3, true), (ReferenceCellKind.Rnn, 5, 2, false)), 4, 9, 3, lengths).SetName("Lstm_GruResetAfter_Rnn_Lengths");
    }

    [TestCaseSource(nameof(ReferenceCases))]
    public void ComposedModel_MatchesHandDerivedReference((ReferenceCellKind Kind, int H, int O, bool ResetAfter)[] spec, int batch, int time, int features, int[]? lengths = null)
    {
        var rng = new Random(17);
        int f = features;
        var refLayers = new List<ReferenceLayer<double>>();
        foreach (var (kind, h, o, ra) in spec)
        {
            var rl = new ReferenceLayer<double>(kind, f, h, o, ra);
            rl.Parameters.Randomize(rng, 0.5);
            refLayers.Add(rl);
            f = o;
        }
        var reference = new ReferenceModel<double>(refLayers.ToArray());
        var model = new RnnModel<double>(spec.Select(s => Layer(s.Kind, s.H, s.O, s.ResetAfter)).ToArray());
        model.LoadStateDict(reference.StateDict());

        var x = Tensor.Randn<double>(rng, batch, time, features);
        x.RequiresGrad = true;
        var dy = Tensor.Randn<double>(rng, batch, time, spec[^1].O);
        int[] yShape = [batch, time, spec[^1].O];

        const double Tol = 1e-10;
        var y = model.Forward(x, lengths);
        var yRef = reference.Forward(x.AsSpan(), batch, time, lengths);
        double worst = GoldenAssert.Close(y.AsSpan(), yRef, yShape, "output", Tol);
        y.Backward(dy);
        var dxRef = reference.Backward(dy.AsSpan());
        foreach (var (key, p) in model.NamedParameters())
            worst = Math.Max(worst, GoldenAssert.Close(p.Grad!.AsSpan(), reference.Grad(key), p.Shape.ToArray(), $"d/d {key}", Tol));
        worst = Math.Max(worst, GoldenAssert.Close(x.Grad!.AsSpan(), dxRef, x.Shape.ToArray(), "d/d input", Tol));

        // The seed's carry: a second batch starts from the batch mean of the first's final state (each
        // sequence's state after its own last valid step), a non-zero state; its gradients must match the reference's too.
        var x2 = Tensor.Randn<double>(rng, batch, time, features);
        x2.RequiresGrad = true;
        var lengths2 = lengths?.Reverse().ToArray();
        var dy2 = Tensor.Randn<double>(rng, batch, time, spec[^1].O);
        model.ZeroGrad();
        reference.ZeroGrad();
        var y2 = model.Forward(x2, lengths2);
        worst = Math.Max(worst, GoldenAssert.Close(y2.AsSpan(), reference.Forward(x2.AsSpan(), batch, time, lengths2), yShape, "second batch output", Tol));
        y2.Backward(dy2);
        var dx2Ref = reference.Backward(dy2.AsSpan());
        foreach (var (key, p) in model.NamedParameters())
            worst = Math.Max(worst, GoldenAssert.Close(p.Grad!.AsSpan(), reference.Grad(key), p.Shape.ToArray(), $"second batch d/d {key}", Tol));
        worst = Math.Max(worst, GoldenAssert.Close(x2.Grad!.AsSpan(), dx2Ref, x2.Shape.ToArray(), "second batch d/d input", Tol));
        TestContext.Out.WriteLine($"largest relative error vs hand-derived reference = {worst:E2}");
    }
}
