using Autograd.Nn;
using Autograd.Nn.Reference;
using Autograd.Tests.Golden;
using static Autograd.Tests.Reference.FiniteDifference;

namespace Autograd.Tests.Nn;

/// <summary>
/// The seed-style layers (with W_v, B_v) wrapped as bidirectional pairs on padded batches, against the
/// hand-derived reference (extended for lengths and reversal within length) to 1e-10, the reference itself
/// against finite differences, and the composed layers (both forms) against finite differences. Unidirectional
/// stacks with lengths are rows of <see cref="LayerOracleTests"/>.
/// </summary>
public class VariableLengthTests
{
    private const double Tol = 1e-10;

    private static RecurrentLayer<double> Layer(ReferenceCellKind kind, int hidden, int output, bool resetAfter = false)
        => RecurrentCell.Get((CellKind)Enum.Parse(typeof(CellKind), kind.ToString())).CreateLayer<double>(hidden, output, new RecurrentOptions { GruResetAfter = resetAfter });

    private static ReferenceLayer<double> RefLayer(Random rng, ReferenceCellKind kind, int input, int hidden, int output, bool resetAfter = false)
    {
        var l = new ReferenceLayer<double>(kind, input, hidden, output, resetAfter);
        l.Parameters.Randomize(rng, 0.5);
        return l;
    }

    [Test]
    public void BidirectionalStack_MixedKinds_WithLengths_MatchesReference()
    {
        const int batch = 3, time = 8, features = 4;
        int[] lengths = [5, 8, 2];
        var rng = new Random(33);
        // Layer 0: GRU forward, LSTM reverse; layer 1 reads both directions: RNN forward, GRU (reset-after) reverse.
        var r0 = new ReferenceBidirectional<double>(RefLayer(rng, ReferenceCellKind.Gru, features, 5, 3), RefLayer(rng, ReferenceCellKind.Lstm, features, 4, 2));
        var r1 = new ReferenceBidirectional<double>(RefLayer(rng, ReferenceCellKind.Rnn, 5, 4, 3), RefLayer(rng, ReferenceCellKind.Gru, 5, 3, 2, resetAfter: true));
        var b0 = new Bidirectional<double>(Layer(ReferenceCellKind.Gru, 5, 3), Layer(ReferenceCellKind.Lstm, 4, 2));
        var b1 = new Bidirectional<double>(Layer(ReferenceCellKind.Rnn, 4, 3), Layer(ReferenceCellKind.Gru, 3, 2, resetAfter: true));
        var model = new RnnModel<double>(b0, b1);
        model.Build(features);
        (string Prefix, ReferenceLayer<double> Layer)[] pairs =
            [("layers.0.forward.", r0.ForwardLayer), ("layers.0.reverse.", r0.ReverseLayer), ("layers.1.forward.", r1.ForwardLayer), ("layers.1.reverse.", r1.ReverseLayer)];
        var state = model.StateDict();
        foreach (var (prefix, r) in pairs)
            foreach (var name in r.Parameters.Names) state[prefix + name].CopyFrom(r.Parameters.Value(name));

        var x = Tensor.Randn<double>(rng, batch, time, features);
        x.RequiresGrad = true;
        var dy = Tensor.Randn<double>(rng, batch, time, 5);
        var y = model.Forward(x, lengths);
        var yRef = r1.Forward(r0.Forward(x.AsSpan(), batch, time, lengths), batch, time, lengths);
        double worst = GoldenAssert.Close(y.AsSpan(), yRef, [batch, time, 5], "output", Tol);
        y.Backward(dy);
        var dx = r0.Backward(r1.Backward(dy.AsSpan()));
        foreach (var (prefix, r) in pairs)
            foreach (var name in r.Parameters.Names)
                worst = Math.Max(worst, GoldenAssert.Close(state[prefix + name].Grad!.AsSpan(), r.Parameters.Grad(name), r.Parameters.Shape(name), $"d/d {prefix}{name}", Tol));
        worst = Math.Max(worst, GoldenAssert.Close(x.Grad!.AsSpan(), dx, [batch, time, features], "d/d input", Tol));
        // The reverse direction's final state is its state after step 0; the reference keeps the batch mean of it.
        worst = Math.Max(worst, GoldenAssert.Close(b0.ReverseLayer.StartC!.AsSpan(), r0.ReverseLayer.StartC!, [1, 4], "reverse carried c", Tol));
        TestContext.Out.WriteLine($"bidirectional stack, lengths [{string.Join(", ", lengths)}]: largest relative error vs reference = {worst:E2}");
    }

    [Test]
    public void ReferenceBidirectional_WithLengths_MatchesFiniteDifferences()
    {
        const int batch = 3, time = 5, features = 2;
        int[] lengths = [5, 2, 3];
        var rng = new Random(8);
        var bi = new ReferenceBidirectional<double>(RefLayer(rng, ReferenceCellKind.Lstm, features, 3, 2), RefLayer(rng, ReferenceCellKind.Gru, features, 3, 3, resetAfter: true));
        var input = Randn(rng, batch * time * features);
        var g = Randn(rng, batch * time * 5);
        double Loss()
        {
            bi.ForwardLayer.ResetState();
            bi.ReverseLayer.ResetState();
            return Dot(bi.Forward(input, batch, time, lengths), g);
        }
        bi.ForwardLayer.Parameters.ZeroGrad();
        bi.ReverseLayer.Parameters.ZeroGrad();
        Loss();
        var dx = bi.Backward(g);
        double worst = Check("input", input, dx, Loss);
        foreach (var layer in new[] { bi.ForwardLayer, bi.ReverseLayer })
            foreach (var name in layer.Parameters.Names)
                worst = Math.Max(worst, Check(name, layer.Parameters.Value(name), (double[])layer.Parameters.Grad(name).Clone(), Loss));
        for (int b = 0; b < batch; b++)
            for (int t = lengths[b]; t < time; t++)
                Assert.That(dx.AsSpan((b * time + t) * features, features).ToArray(), Is.All.EqualTo(0.0), "no gradient past a length");
        TestContext.Out.WriteLine($"finite differences, reference bidirectional with lengths: max relative error {worst:E2}");
    }

    public static IEnumerable<TestCaseData> GradCheckLayers()
    {
        foreach (var cell in RecurrentCell.All)
        {
            yield return new TestCaseData(cell.Kind, false).SetName($"{cell.Name}_Seed");
            yield return new TestCaseData(cell.Kind, true).SetName($"{cell.Name}_PyTorchForm");
        }
    }

    /// <summary>Composed layers with lengths (seed form, and the PyTorch form: no W_v, both biases, reset-after b_hn) against finite differences.</summary>
    [TestCaseSource(nameof(GradCheckLayers))]
    public void BidirectionalWithLengths_MatchesFiniteDifferences(CellKind kind, bool pytorchForm)
    {
        var cell = RecurrentCell.Get(kind);
        var options = pytorchForm ? RecurrentOptions.PyTorch with { Seed = 2, Init = InitScheme.XavierOrthogonal } : new RecurrentOptions { Init = InitScheme.XavierOrthogonal, Seed = 2, Carry = CarryMode.None };
        RecurrentLayer<double> Make(int seed) => pytorchForm ? cell.CreateLayer<double>(3, options with { Seed = seed }) : cell.CreateLayer<double>(3, 2, options with { Seed = seed });
        var model = new RnnModel<double>(new Bidirectional<double>(Make(1), Make(2)), Make(3));
        model.Build(2);
        // Non-zero recurrent biases, so that b_hn's place inside the reset product matters.
        var rng = new Random(6);
        foreach (var (name, p) in model.NamedParameters())
            if (name.Contains("B_h")) p.CopyFrom(Tensor.Randn<double>(rng, p.Shape.ToArray()).AsSpan());
        var x = Tensor.Randn<double>(new Random(3), 3, 4, 2);
        int[] lengths = [4, 1, 2];
        var inputs = new[] { x }.Concat(model.Parameters()).ToArray();
        foreach (var t in inputs) t.RequiresGrad = true;
        GradCheck.Assert(_ => model.Forward(x, lengths), inputs);
    }
    public static IEnumerable<TestCaseData> PaddingCases()
    {
        foreach (var kind in new[] { CellKind.Rnn, CellKind.Gru, CellKind.Lstm })
            foreach (bool pytorchForm in new[] { false, true })
                foreach (bool bidirectional in new[] { false, true })
                    yield return new TestCaseData(kind, pytorchForm, bidirectional).SetName($"{kind}_{(pytorchForm ? "PyTorchForm" : "SeedForm")}_{(bidirectional ? "Bidirectional" : "Unidirectional")}");
    }

    /// <summary>Output, every direction's final state, every parameter's gradient and the input's gradient of one pass.</summary>
    private static List<double[]> PaddedPass(CellKind kind, bool pytorchForm, bool bidirectional, Func<int, int, double> value, int[] lengths, int time)
    {
        const int features = 2;
        var cell = RecurrentCell.Get(kind);
        var options = pytorchForm ? RecurrentOptions.PyTorch : new RecurrentOptions { Carry = CarryMode.None };
        RecurrentLayer<double> Make(int seed) => pytorchForm ? cell.CreateLayer<double>(3, options with { Seed = seed }) : cell.CreateLayer<double>(3, 2, options with { Seed = seed });
        SequenceLayer<double> layer = bidirectional ? new Bidirectional<double>(Make(1), Make(2)) : Make(1);
        layer.Build(features);
        var x = Tensor.FromArray(Enumerable.Range(0, lengths.Length * time * features).Select(i => value(i / features / time, i / features % time) + 0.1 * (i % 7)).ToArray(), lengths.Length, time, features);
        x.RequiresGrad = true;
        var y = layer.Forward(x, lengths);
        var loss = y.Square().Sum();
        foreach (var d in layer.Directions)
            foreach (var s in d.FinalState!) loss = loss + s.Square().Sum();
        List<double[]> results = [y.ToArray(), .. layer.Directions.SelectMany(d => d.FinalState!.Select(s => s.ToArray()))];
        loss.Backward();
        return [.. results, .. layer.Parameters().Select(p => p.Grad!.ToArray()), x.Grad!.ToArray()];
    }

    /// <summary>What the padding holds never matters: NaN there gives exactly what zeros there give (outputs, final states, gradients).</summary>
    [TestCaseSource(nameof(PaddingCases))]
    public void NaNInPadding_GivesExactlyWhatZerosGive(CellKind kind, bool pytorchForm, bool bidirectional)
    {
        int[] lengths = [5, 2, 3];
        const int time = 5;
        var zeros = PaddedPass(kind, pytorchForm, bidirectional, (b, t) => t < lengths[b] ? 0.3 * (b - t) : 0.0, lengths, time);
        var nans = PaddedPass(kind, pytorchForm, bidirectional, (b, t) => t < lengths[b] ? 0.3 * (b - t) : double.NaN, lengths, time);
        var infs = PaddedPass(kind, pytorchForm, bidirectional, (b, t) => t < lengths[b] ? 0.3 * (b - t) : double.PositiveInfinity, lengths, time);
        Assert.That(zeros.SelectMany(a => a), Has.All.Matches<double>(double.IsFinite), "the zero-padded pass is finite");
        for (int i = 0; i < zeros.Count; i++)
        {
            // The inputs differ in the padding (0 + 0.1·k vs NaN), not elsewhere; the input gradient there is zero in both.
            Assert.That(nans[i], Is.EqualTo(zeros[i]), $"NaN padding, result {i}");
            Assert.That(infs[i], Is.EqualTo(zeros[i]), $"Inf padding, result {i}");
        }
    }

    /// <summary>Ids past a sequence's length are padding: not validated, and their value does not matter.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void OneHotPaddingIds_AreNotValidated_AndDoNotMatter(bool bidirectional)
    {
        int[] lengths = [3, 1];
        const int time = 3, vocab = 4;
        Tensor<double> Run(int pad)
        {
            var cell = RecurrentCell.Get(CellKind.Gru);
            SequenceLayer<double> layer = bidirectional
                ? new Bidirectional<double>(cell.CreateLayer<double>(3, 2, new RecurrentOptions { Seed = 1 }), cell.CreateLayer<double>(3, 2, new RecurrentOptions { Seed = 2 }))
                : cell.CreateLayer<double>(3, 2, new RecurrentOptions { Seed = 1 });
            return layer.ForwardOneHot([1, 3, 2, 0, pad, pad], 2, time, vocab, lengths);
        }
        var withZero = Run(0).ToArray();
        Assert.That(Run(-1).ToArray(), Is.EqualTo(withZero), "a pad id of -1");
        Assert.That(Run(99).ToArray(), Is.EqualTo(withZero), "a pad id past the vocabulary");
        var cellForError = RecurrentCell.Get(CellKind.Gru).CreateLayer<double>(3, 2);
        Assert.That(() => cellForError.ForwardOneHot([1, 3, 4, 0, 0, 0], 2, time, vocab, lengths), Throws.InstanceOf<ArgumentOutOfRangeException>(), "an id within a length is still checked");
    }
}
