using Autograd.Nn;

namespace Autograd.Tests.Nn;

/// <summary>State dicts, carried state, initialisation, dropout and float/double agreement of the layers.</summary>
public class LayerBehaviourTests
{
    private static readonly (CellKind Kind, string[] Names)[] ExpectedNames =
    [
        (CellKind.Rnn, ["W_f", "B_f", "W_v", "B_v"]),
        (CellKind.Gru, ["W_xr", "W_xu", "W_xh", "W_hr", "W_hu", "W_hh", "B_r", "B_u", "B_h", "W_v", "B_v"]),
        (CellKind.Lstm, ["W_f", "W_i", "W_c", "W_o", "B_f", "B_i", "B_c", "B_o", "W_v", "B_v"]),
    ];

    private static RecurrentLayer<T> Make<T>(CellKind kind, int hidden, int output, RecurrentOptions? o = null)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => kind switch
        {
            CellKind.Rnn => new RnnLayer<T>(hidden, output, o),
            CellKind.Gru => new GruLayer<T>(hidden, output, o),
            _ => new LstmLayer<T>(hidden, output, o),
        };

    [TestCase(CellKind.Rnn)]
    [TestCase(CellKind.Gru)]
    [TestCase(CellKind.Lstm)]
    public void NamedParameters_FollowTheSeedLayout(CellKind kind)
    {
        const int F = 5, H = 7, O = 3;
        var layer = Make<double>(kind, H, O);
        Assert.That(layer.NamedParameters(), Is.Empty, "parameters are created lazily");
        layer.Forward(Tensor.Zeros<double>(2, 3, F));
        var names = layer.NamedParameters().Select(p => p.Name).ToArray();
        Assert.That(names, Is.EqualTo(ExpectedNames.Single(e => e.Kind == kind).Names));
        var layout = RecurrentLayer<double>.Layout(kind, F, H, O);
        Assert.That(layout.Select(l => l.Name), Is.EqualTo(names), "the static layout matches the built layer");
        Assert.That(layout.Select(l => l.Shape), Is.EqualTo(layer.NamedParameters().Select(p => p.Parameter.Shape.ToArray())));
        foreach (var (name, p) in layer.NamedParameters())
        {
            int[] expected = name switch
            {
                "W_v" => [H, O],
                "B_v" => [1, O],
                _ when name.StartsWith("B_") => [1, H],
                "W_xr" or "W_xu" or "W_xh" => [F, H],
                "W_hr" or "W_hu" or "W_hh" => [H, H],
                _ => [F + H, H],
            };
            Assert.That(p.Shape.ToArray(), Is.EqualTo(expected), name);
            Assert.That(p.RequiresGrad, Is.True, name);
        }
    }

    [Test]
    public void Model_PrefixesLayerNames()
    {
        var model = new RnnModel<double>(new GruLayer<double>(6, 4), new LstmLayer<double>(5, 3));
        model.Build(2);
        var names = model.StateDict().Keys.ToArray();
        Assert.That(names, Does.Contain("layers.0.W_xr"));
        Assert.That(names, Does.Contain("layers.1.W_f"));
        Assert.That(model.StateDict()["layers.1.W_f"].Shape.ToArray(), Is.EqualTo(new[] { 4 + 5, 5 }));
    }

    [Test]
    public void LoadStateDict_RoundTripsAndBuildsLazily()
    {
        var a = new RnnModel<double>(new LstmLayer<double>(4, 3, new() { Seed = 1 }), new GruLayer<double>(3, 2, new() { Seed = 2 }));
        a.Build(5);
        var b = new RnnModel<double>(new LstmLayer<double>(4, 3, new() { Seed = 7 }), new GruLayer<double>(3, 2, new() { Seed = 8 }));
        b.LoadStateDict(a.StateDict());
        var x = Tensor.Randn<double>(new Random(0), 2, 3, 5);
        Assert.That(b.Forward(x).ToArray(), Is.EqualTo(a.Forward(x).ToArray()));
    }

    [Test]
    public void LoadStateDict_RejectsMissingExtraAndMisshapedKeys()
    {
        var a = new RnnModel<double>(new RnnLayer<double>(4, 3));
        a.Build(2);
        var good = a.StateDict().ToDictionary(p => p.Key, p => p.Value);
        var before = a.StateDict()["layers.0.W_f"].ToArray();

        var missing = new Dictionary<string, Tensor<double>>(good);
        missing.Remove("layers.0.B_f");
        Assert.That(() => a.LoadStateDict(missing), Throws.ArgumentException.With.Message.Contains("layers.0.B_f"));

        var extra = new Dictionary<string, Tensor<double>>(good) { ["layers.0.W_q"] = Tensor.Zeros<double>(1) };
        Assert.That(() => a.LoadStateDict(extra), Throws.ArgumentException.With.Message.Contains("layers.0.W_q"));

        var bad = new Dictionary<string, Tensor<double>>(good) { ["layers.0.W_f"] = Tensor.Ones<double>(5, 4) };
        Assert.That(() => a.LoadStateDict(bad), Throws.ArgumentException.With.Message.Contains("layers.0.W_f").And.Message.Contains("(6, 4)"));

        Assert.That(a.StateDict()["layers.0.W_f"].ToArray(), Is.EqualTo(before), "a refused load changes nothing");
    }

    [TestCase(CellKind.Rnn)]
    [TestCase(CellKind.Gru)]
    [TestCase(CellKind.Lstm)]
    public void PerSequenceCarry_SplitSequenceEqualsWholeSequence(CellKind kind)
    {
        var o = new RecurrentOptions { Carry = CarryMode.PerSequence, Init = InitScheme.XavierOrthogonal, Seed = 4 };
        var whole = Make<double>(kind, 5, 3, o);
        var split = Make<double>(kind, 5, 3, o);
        var x = Tensor.Randn<double>(new Random(3), 2, 8, 4);
        var expected = whole.Forward(x).ToArray();
        var first = split.Forward(x.Slice(1, 0, 5));
        var second = split.Forward(x.Slice(1, 5, 3));
        var actual = Tensor.Concat(1, first, second).ToArray();
        Assert.That(actual, Is.EqualTo(expected).Within(1e-12));
        Assert.That(split.StartH!.IsLeaf && !split.StartH.RequiresGrad, Is.True);
    }

    [TestCase(CellKind.Gru)]
    [TestCase(CellKind.Lstm)]
    public void BatchMeanCarry_NextPassStartsFromTheMeanFinalState(CellKind kind)
    {
        var o = new RecurrentOptions { Init = InitScheme.XavierOrthogonal, Seed = 5 };
        var seedWay = Make<double>(kind, 4, 2, o);
        var x1 = Tensor.Randn<double>(new Random(1), 3, 4, 2);
        var x2 = Tensor.Randn<double>(new Random(2), 3, 4, 2);
        var y1 = seedWay.Forward(x1);
        // Independent computation of the mean final state: a per-sequence layer with the same weights.
        var perSeq = Make<double>(kind, 4, 2, o with { Carry = CarryMode.PerSequence });
        perSeq.Forward(x1);
        var meanH = perSeq.StartH!.Mean(0, keepDim: true);
        Assert.That(seedWay.StartH!.ToArray(), Is.EqualTo(meanH.ToArray()).Within(1e-14));
        if (kind == CellKind.Lstm) Assert.That(seedWay.StartC!.ToArray(), Is.EqualTo(perSeq.StartC!.Mean(0, keepDim: true).ToArray()).Within(1e-14));
        var y2 = seedWay.Forward(x2);
        perSeq.SetState(meanH, perSeq.StartC?.Mean(0, keepDim: true));
        Assert.That(y2.ToArray(), Is.EqualTo(perSeq.Forward(x2).ToArray()).Within(1e-14));
        Assert.That(y1.ToArray(), Is.Not.EqualTo(y2.ToArray()));
    }

    [Test]
    public void ResetState_RestoresFreshBehaviour_AndNoneCarryForgets()
    {
        var layer = new LstmLayer<double>(4, 2, new() { Seed = 9 });
        var x = Tensor.Randn<double>(new Random(1), 2, 3, 3);
        var first = layer.Forward(x).ToArray();
        Assert.That(layer.Forward(x).ToArray(), Is.Not.EqualTo(first), "state carried");
        layer.ResetState();
        Assert.That(layer.Forward(x).ToArray(), Is.EqualTo(first));

        var none = new LstmLayer<double>(4, 2, new() { Seed = 9, Carry = CarryMode.None });
        Assert.That(none.Forward(x).ToArray(), Is.EqualTo(first));
        Assert.That(none.Forward(x).ToArray(), Is.EqualTo(first));
    }

    [Test]
    public void SameSeed_SameParameters_DifferentSeed_Different()
    {
        static double[] Params(int seed)
        {
            var l = new GruLayer<double>(5, 3, new() { Seed = seed });
            l.Build(4);
            return l.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        Assert.That(Params(11), Is.EqualTo(Params(11)));
        Assert.That(Params(11), Is.Not.EqualTo(Params(12)));
    }

    [Test]
    public void SeedInit_HasTheDocumentedScale()
    {
        var lstm = new LstmLayer<double>(64, 64);
        lstm.Build(64);
        var w = lstm.StateDict()["W_f"].ToArray();
        double std = Math.Sqrt(w.Select(v => v * v).Average());
        Assert.That(std, Is.EqualTo(0.01).Within(0.001));
        var rnn = new RnnLayer<double>(64, 64);
        rnn.Build(64);
        var wf = rnn.StateDict()["W_f"].ToArray();
        Assert.That(Math.Sqrt(wf.Select(v => v * v).Average()), Is.EqualTo(2.0 / (128 + 64)).Within(0.1 * 2.0 / 192));
    }

    [Test]
    public void XavierOrthogonalInit_RecurrentBlocksAreOrthogonal_ForgetBiasApplied()
    {
        const int F = 3, H = 6;
        var lstm = new LstmLayer<double>(H, 2, new() { Init = InitScheme.XavierOrthogonal, ForgetGateBias = 1.0 });
        lstm.Build(F);
        var sd = lstm.StateDict();
        Assert.That(sd["B_f"].ToArray(), Is.All.EqualTo(1.0));
        Assert.That(sd["B_i"].ToArray(), Is.All.EqualTo(0.0));
        var r = sd["W_o"].Slice(0, F, H);
        var gram = r.Transpose().MatMul(r).ToArray();
        for (int i = 0; i < H; i++)
            for (int j = 0; j < H; j++)
                Assert.That(gram[i * H + j], Is.EqualTo(i == j ? 1.0 : 0.0).Within(1e-12));
        double a = Math.Sqrt(6.0 / (F + H));
        Assert.That(sd["W_o"].Slice(0, 0, F).ToArray(), Is.All.InRange(-a, a));
    }

    [Test]
    public void Dropout_OnlyInTraining()
    {
        var model = new RnnModel<double>([new GruLayer<double>(8, 8, new() { Carry = CarryMode.None }), new GruLayer<double>(8, 3, new() { Carry = CarryMode.None, Seed = 1 })], dropout: 0.5, seed: 3);
        var x = Tensor.Randn<double>(new Random(0), 2, 3, 4);
        var t1 = model.Forward(x).ToArray();
        var t2 = model.Forward(x).ToArray();
        Assert.That(t1, Is.Not.EqualTo(t2), "training: fresh masks");
        model.Eval();
        Assert.That(model.Training, Is.False);
        Assert.That(model.Layers[0].Training, Is.False);
        Assert.That(model.Forward(x).ToArray(), Is.EqualTo(model.Forward(x).ToArray()));
    }

    [TestCase(CellKind.Rnn)]
    [TestCase(CellKind.Gru)]
    [TestCase(CellKind.Lstm)]
    public void FloatLayer_AgreesWithDouble(CellKind kind)
    {
        var d = Make<double>(kind, 16, 5, new() { Init = InitScheme.XavierOrthogonal, Seed = 2 });
        var f = Make<float>(kind, 16, 5);
        d.Build(7);
        f.LoadStateDict(d.StateDict().ToDictionary(p => p.Key, p => Tensor.FromArray(p.Value.ToArray().Select(v => (float)v).ToArray(), p.Value.Shape.ToArray())));
        var xd = Tensor.Randn<double>(new Random(5), 3, 12, 7);
        var xf = Tensor.FromArray(xd.ToArray().Select(v => (float)v).ToArray(), 3, 12, 7);
        var yd = d.Forward(xd);
        var yf = f.Forward(xf);
        Assert.That(yf.ToArray().Select(v => (double)v), Is.EqualTo(yd.ToArray()).Within(1e-4));
        yd.Sum().Backward();
        yf.Sum().Backward();
        var gd = d.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray());
        foreach (var (name, p) in f.NamedParameters())
        {
            var gf = p.Grad!.ToArray();
            double scale = gd[name].Max(Math.Abs) + 1;
            Assert.That(gf.Select(v => (double)v), Is.EqualTo(gd[name]).Within(2e-4 * scale), name);
        }
    }

    [Test]
    public void ForwardOneHot_EqualsForwardOnOneHotVectors()
    {
        const int V = 6;
        var a = new LstmLayer<double>(5, 4, new() { Seed = 1, Init = InitScheme.XavierOrthogonal });
        var b = new LstmLayer<double>(5, 4, new() { Seed = 1, Init = InitScheme.XavierOrthogonal });
        int[] ids = [0, 5, 2, 2, 1, 3];
        var oneHot = new double[ids.Length * V];
        for (int i = 0; i < ids.Length; i++) oneHot[i * V + ids[i]] = 1;
        var ya = a.Forward(Tensor.FromArray(oneHot, 2, 3, V));
        var yb = b.ForwardOneHot(ids, 2, 3, V);
        Assert.That(yb.ToArray(), Is.EqualTo(ya.ToArray()).Within(1e-14));
        ya.Sum().Backward();
        yb.Sum().Backward();
        foreach (var ((name, pa), (_, pb)) in a.NamedParameters().Zip(b.NamedParameters()))
            Assert.That(pb.Grad!.ToArray(), Is.EqualTo(pa.Grad!.ToArray()).Within(1e-13), name);
    }

    [Test]
    public void BadInput_IsRefusedWithShapes()
    {
        var layer = new GruLayer<double>(4, 2);
        Assert.That(() => layer.Forward(Tensor.Zeros<double>(2, 3)), Throws.ArgumentException.With.Message.Contains("(2, 3)"));
        layer.Forward(Tensor.Zeros<double>(1, 2, 3));
        Assert.That(() => layer.Forward(Tensor.Zeros<double>(1, 2, 5)), Throws.ArgumentException.With.Message.Contains("3").And.Message.Contains("5"));
        Assert.That(() => new LstmLayer<double>(0, 2), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new RnnLayer<double>(3, -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => layer.ForwardOneHot([0, 1], 1, 3, 3), Throws.ArgumentException);
        Assert.That(() => layer.ForwardOneHot([0, 1, 7], 1, 3, 3), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("7"));
        Assert.That(layer.Forward(Tensor.Zeros<double>(1, 2, 3)).Shape.ToArray(), Is.EqualTo(new[] { 1, 2, 2 }), "still usable");
    }

    [TestCase(CarryMode.PerSequence)]
    [TestCase(CarryMode.BatchMean)]
    public void PooledInternals_NeverLeakIntoOutputsOrCarriedState(CarryMode carry)
    {
        // Internal step tensors reuse buffers once backward has released them; whatever the
        // user can reach (outputs, carried state, gradients) must keep its values.
        var layer = new LstmLayer<double>(6, 3, new() { Carry = carry, Seed = 2 });
        var x = Tensor.Randn<double>(new Random(1), 2, 5, 4);
        var y1 = layer.Forward(x);
        var y1Values = y1.ToArray();
        y1.Sum().Backward();
        var state1 = layer.StartH!;
        var state1Values = state1.ToArray();
        var grad1 = layer.Parameters().First().Grad!.ToArray();
        for (int i = 0; i < 3; i++)
        {
            layer.ZeroGrad();
            layer.Forward(Tensor.Randn<double>(new Random(10 + i), 2, 5, 4)).Sum().Backward();
        }
        Assert.That(y1.ToArray(), Is.EqualTo(y1Values));
        Assert.That(state1.ToArray(), Is.EqualTo(state1Values));
        // The same computation from a fresh layer reproduces the first gradient exactly.
        var fresh = new LstmLayer<double>(6, 3, new() { Carry = carry, Seed = 2 });
        fresh.Forward(x).Sum().Backward();
        Assert.That(fresh.Parameters().First().Grad!.ToArray(), Is.EqualTo(grad1));
    }
    /// <summary>
    /// Truncated BPTT: the final state goes into the loss, Backward runs, then FinalState is read and detached as
    /// the next chunk's h_0. It must still hold its values (not a view of buffers the backward pass recycled),
    /// and the two chunks must give what one pass over the whole sequence gives.
    /// </summary>
    [TestCase(CellKind.Rnn, false)]
    [TestCase(CellKind.Gru, false)]
    [TestCase(CellKind.Lstm, false)]
    [TestCase(CellKind.Lstm, true)]
    public void FinalState_IsReadableAfterBackward_AndStartsTheNextChunk(CellKind kind, bool bidirectional)
    {
        var x = Tensor.Randn<double>(new Random(5), 2, 7, 3);
        var chunked = RnnModel<double>.Stack(kind, 4, layers: 2, bidirectional);
        var y1 = chunked.Forward(x.Slice(1, 0, 4));
        var directions = chunked.Layers.SelectMany(l => l.Directions).ToArray();
        var layerStates = directions.Select(d => d.FinalState!.Select(s => s.ToArray()).ToArray()).ToArray();
        var h = chunked.FinalState;
        var stacked = h.Select(s => s.ToArray()).ToArray();
        var loss = y1.Square().Sum();
        foreach (var s in h) loss = loss + s.Square().Sum();
        loss.Backward();
        for (int d = 0; d < directions.Length; d++)
            for (int k = 0; k < layerStates[d].Length; k++)
                Assert.That(directions[d].FinalState![k].ToArray(), Is.EqualTo(layerStates[d][k]), $"layer FinalState after Backward (direction {d}, component {k})");
        var again = chunked.FinalState;
        for (int k = 0; k < stacked.Length; k++) Assert.That(again[k].ToArray(), Is.EqualTo(stacked[k]), $"RnnModel.FinalState after Backward (component {k})");
        if (bidirectional) return; // the reverse direction's state does not continue into the next chunk

        var y2 = chunked.Forward(x.Slice(1, 4, 3), null, [.. again.Select(s => s.Detach())]);
        var whole = RnnModel<double>.Stack(kind, 4, layers: 2).Forward(x);
        Assert.That(y2.ToArray(), Is.EqualTo(whole.Slice(1, 4, 3).ToArray()).Within(1e-12), "chunk 2 from the detached final state = steps 4..6 of one pass");
    }
    [Test]
    public void LoadStateDict_RefusesInputSizesThatDisagree_AcrossDirectionsAndLayers()
    {
        // Each layer's F is read from its own first weight; the directions of a pair, and a layer and its
        // predecessor's output, must agree or the model could not run.
        Bidirectional<double> Pair() => new(new RnnLayer<double>(4, 2, new() { Seed = 1 }), new RnnLayer<double>(4, 2, new() { Seed = 2 }));
        var three = Pair();
        three.Build(3);
        var five = Pair();
        five.Build(5);
        var mixed = three.StateDict().Where(p => p.Key.StartsWith("forward.", StringComparison.Ordinal))
            .Concat(five.StateDict().Where(p => p.Key.StartsWith("reverse.", StringComparison.Ordinal))).ToDictionary(p => p.Key, p => p.Value);
        var target = Pair();
        Assert.That(() => target.LoadStateDict(mixed), Throws.ArgumentException
            .With.Message.Contains("'reverse.W_f' has shape (9, 4), expected (7, 4)"));
        Assert.That(target.Directions.Select(d => d.InputSize), Is.All.Null, "nothing built");

        var stack = new RnnModel<double>(new RnnLayer<double>(4, 2, new() { Seed = 1 }), new RnnLayer<double>(4, 2, new() { Seed = 2 }));
        var layer1For6 = new RnnLayer<double>(4, 2);
        layer1For6.Build(6);
        var source = new RnnModel<double>(new RnnLayer<double>(4, 2), new RnnLayer<double>(4, 2));
        source.Build(3);
        var wrongLayer1 = source.StateDict().Where(p => p.Key.StartsWith("layers.0.", StringComparison.Ordinal))
            .Concat(layer1For6.StateDict().Select(p => KeyValuePair.Create("layers.1." + p.Key, p.Value))).ToDictionary(p => p.Key, p => p.Value);
        Assert.That(() => stack.LoadStateDict(wrongLayer1), Throws.ArgumentException
            .With.Message.Contains("'layers.1.W_f' has shape (10, 4), expected (6, 4)"));
        Assert.That(stack.Layers.Select(l => l.InputSize), Is.All.Null, "nothing built");
        stack.LoadStateDict(source.StateDict());
        Assert.That(stack.Layers.Select(l => l.InputSize), Is.EqualTo(new int?[] { 3, 2 }));
    }
}
