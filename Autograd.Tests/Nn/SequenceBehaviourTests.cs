using Autograd.Nn;

namespace Autograd.Tests.Nn;

/// <summary>
/// Variable-length batches as PyTorch's packed sequences: the new composites (gather, masking, reversal within
/// length) against finite differences, the masked losses against naive loops, and the layers' semantics
/// (padding never matters, a sequence in a padded batch = the sequence alone, bad lengths named).
/// </summary>
public class SequenceBehaviourTests
{
    private static Tensor<double> Randn(int seed, params int[] shape) => Tensor.Randn<double>(new Random(seed), shape);

    [Test]
    public void Embedding_GathersRows_AndGradChecks()
    {
        var embedding = new Embedding<double>(5, 3, seed: 1);
        int[] ids = [4, 0, 4, 2, 4, 1];
        var y = embedding.Forward(ids, 2, 3);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 2, 3, 3 }));
        for (int i = 0; i < ids.Length; i++)
            Assert.That(y.AsSpan().Slice(i * 3, 3).ToArray(), Is.EqualTo(embedding.Weight.AsSpan().Slice(ids[i] * 3, 3).ToArray()));
        // Repeated ids sum their gradients (a scatter-add); id 3 never occurs and gets zero.
        GradCheck.Assert(w => w[0].IndexSelect(ids).Reshape(2, 3, 3) * Randn(2, 2, 3, 3), [embedding.Weight]);
        (embedding.Forward(ids, 6) * Randn(3, 6, 3)).Sum().Backward();
        Assert.That(embedding.Weight.Grad!.AsSpan().Slice(9, 3).ToArray(), Is.All.EqualTo(0.0));
        Assert.That(() => embedding.Forward([5], 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => embedding.Forward(ids, 4, 2), Throws.ArgumentException.With.Message.Contains("6 ids"));
    }

    [Test]
    public void Mask_And_ReverseWithinLength_GradCheck()
    {
        int[] lengths = [3, 1, 4];
        var mask = Sequences.Mask<double>(lengths, 4);
        Assert.That(mask.ToArray(), Is.EqualTo(new double[] { 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1 }));
        var x = Randn(1, 3, 4, 2);
        x.RequiresGrad = true;
        GradCheck.Assert(t => t[0] * mask.Reshape(3, 4, 1), [x]);
        GradCheck.Assert(t => Sequences.Reverse(t[0], lengths) * Randn(5, 3, 4, 2), [x]);

        var r = Sequences.Reverse(x, lengths).ToArray();
        var v = x.ToArray();
        // Row 0 (length 3): steps 2, 1, 0 then step 3 in place.
        Assert.That(r.AsSpan(0, 8).ToArray(), Is.EqualTo(v.AsSpan(4, 2).ToArray().Concat(v.AsSpan(2, 2).ToArray()).Concat(v.AsSpan(0, 2).ToArray()).Concat(v.AsSpan(6, 2).ToArray())));
        Assert.That(Sequences.Reverse(Sequences.Reverse(x, lengths), lengths).ToArray(), Is.EqualTo(v), "an involution");
        Assert.That(() => Sequences.Reverse(x, [3, 0, 4]), Throws.ArgumentException.With.Message.Contains("lengths[1] = 0"));
    }

    /// <summary>Mean over the valid positions of −log softmax(logits)[target], in plain loops.</summary>
    private static double NaiveCrossEntropy(double[] logits, int classes, int[] targets, bool[] valid)
    {
        double sum = 0;
        int n = 0;
        for (int p = 0; p < valid.Length; p++)
        {
            if (!valid[p]) continue;
            var row = logits.AsSpan(p * classes, classes);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double z = 0;
            foreach (var v in row) z += Math.Exp(v - max);
            sum += -(row[targets[p]] - max - Math.Log(z));
            n++;
        }
        return sum / n;
    }

    [Test]
    public void MaskedLosses_AverageOverValidPositionsOnly()
    {
        const int B = 3, T = 4, C = 5;
        int[] lengths = [4, 1, 2];
        var valid = Enumerable.Range(0, B * T).Select(p => p % T < lengths[p / T]).ToArray();
        var logits = Randn(7, B, T, C);
        logits.RequiresGrad = true;
        var rng = new Random(8);
        var targets = Enumerable.Range(0, B * T).Select(p => valid[p] ? rng.Next(C) : 99).ToArray(); // padded targets are never read

        var loss = Losses.CrossEntropy(logits, targets, lengths);
        Assert.That(loss.Item(), Is.EqualTo(NaiveCrossEntropy(logits.ToArray(), C, targets, valid)).Within(1e-14));
        Assert.That(Losses.CrossEntropy(logits, targets, valid).Item(), Is.EqualTo(loss.Item()), "mask and lengths agree");
        loss.Backward();
        for (int p = 0; p < B * T; p++)
            if (!valid[p]) Assert.That(logits.Grad!.AsSpan().Slice(p * C, C).ToArray(), Is.All.EqualTo(0.0), $"position {p} is padding");
        var safe = targets.Select(t => t == 99 ? 0 : t).ToArray();
        GradCheck.Assert(t => Losses.CrossEntropy(t[0], safe, lengths), [logits]);

        // Many-to-one: each sequence's last valid step.
        int[] labels = [1, 4, 2];
        var last = Losses.CrossEntropyLastStep(logits, labels, lengths);
        var lastValid = Enumerable.Range(0, B * T).Select(p => p % T == lengths[p / T] - 1).ToArray();
        var lastTargets = Enumerable.Range(0, B * T).Select(p => labels[p / T]).ToArray();
        Assert.That(last.Item(), Is.EqualTo(NaiveCrossEntropy(logits.ToArray(), C, lastTargets, lastValid)).Within(1e-14));
        GradCheck.Assert(t => Losses.CrossEntropyLastStep(t[0], labels, lengths), [logits]);

        var prediction = Randn(9, B, T, 2);
        var target = Randn(10, B, T, 2);
        prediction.RequiresGrad = true;
        double expected = 0;
        for (int p = 0; p < B * T; p++)
            if (valid[p]) for (int j = 0; j < 2; j++) expected += Math.Pow(prediction.AsSpan()[p * 2 + j] - target.AsSpan()[p * 2 + j], 2);
        expected /= 2 * valid.Count(v => v);
        Assert.That(Losses.MeanSquaredError(prediction, target, lengths).Item(), Is.EqualTo(expected).Within(1e-14));
        Assert.That(Losses.MeanSquaredError(prediction, target, valid).Item(), Is.EqualTo(expected).Within(1e-14));
        GradCheck.Assert(t => Losses.MeanSquaredError(t[0], target, lengths), [prediction]);
    }

    [Test]
    public void MaskedLosses_NameBadArguments()
    {
        var logits = Randn(1, 2, 3, 4);
        Assert.That(() => Losses.CrossEntropy(logits, new int[6], [3, 4]), Throws.ArgumentException.With.Message.Contains("lengths[1] = 4").And.Message.Contains("1..3"));
        Assert.That(() => Losses.CrossEntropy(logits, new int[6], [3]), Throws.ArgumentException.With.Message.Contains("1 entries").And.Message.Contains("2 sequences"));
        Assert.That(() => Losses.CrossEntropy(logits, new int[5], [3, 3]), Throws.ArgumentException.With.Message.Contains("5 targets"));
        Assert.That(() => Losses.CrossEntropy(logits, new int[6], new bool[6]), Throws.ArgumentException.With.Message.Contains("selects no position"));
        Assert.That(() => Losses.CrossEntropy(logits, new int[6], new bool[5]), Throws.ArgumentException.With.Message.Contains("5 entries"));
        Assert.That(() => Losses.CrossEntropyLastStep(logits, [0, 0], [0, 3]), Throws.ArgumentException.With.Message.Contains("lengths[0] = 0"));
        Assert.That(() => Losses.CrossEntropy(Randn(1, 6, 4), new int[6], [1]), Throws.ArgumentException.With.Message.Contains("(batch, time, classes)"));
    }

    public static IEnumerable<TestCaseData> Layers()
    {
        foreach (var cell in RecurrentCell.All)
        {
            yield return new TestCaseData(cell.Kind, false).SetName($"{cell.Name}_Unidirectional");
            yield return new TestCaseData(cell.Kind, true).SetName($"{cell.Name}_Bidirectional");
        }
    }

    private static SequenceLayer<double> Make(CellKind kind, bool bidirectional, CarryMode carry = CarryMode.None)
    {
        var cell = RecurrentCell.Get(kind);
        var o = new RecurrentOptions { Init = InitScheme.XavierOrthogonal, Carry = carry, GruResetAfter = kind == CellKind.Gru };
        return bidirectional
            ? new Bidirectional<double>(cell.CreateLayer<double>(4, 3, o with { Seed = 1 }), cell.CreateLayer<double>(5, o with { Seed = 2 }))
            : cell.CreateLayer<double>(4, 3, o with { Seed = 1 });
    }

    /// <summary>
    /// PyTorch's packed semantics, checked without any oracle: each sequence of a padded batch gives exactly the
    /// rows (and final state) it gives alone, cut to its length; what sits in the padding changes nothing, not
    /// even a gradient; full lengths are the same as no lengths.
    /// </summary>
    [TestCaseSource(nameof(Layers))]
    public void PaddedBatch_EqualsEachSequenceAlone(CellKind kind, bool bidirectional)
    {
        const int B = 3, T = 6, F = 2;
        int[] lengths = [6, 2, 4];
        var layer = Make(kind, bidirectional);
        int o = layer.OutputSize;
        var x = Randn(11, B, T, F);
        var y = layer.Forward(x, lengths);
        var final = layer.Directions.Select(d => d.FinalState!.Select(s => s.ToArray()).ToArray()).ToArray();
        for (int b = 0; b < B; b++)
        {
            int n = lengths[b];
            var alone = layer.Forward(x.Slice(0, b, 1).Slice(1, 0, n));
            Assert.That(alone.ToArray(), Is.EqualTo(y.Slice(0, b, 1).Slice(1, 0, n).ToArray()).Within(1e-13), $"sequence {b}: output");
            Assert.That(y.Slice(0, b, 1).Slice(1, n, T - n).ToArray(), Is.All.EqualTo(0.0), $"sequence {b}: zero past its length");
            for (int d = 0; d < layer.Directions.Count; d++)
                for (int k = 0; k < final[d].Length; k++)
                {
                    int h = layer.Directions[d].HiddenSize;
                    Assert.That(layer.Directions[d].FinalState![k].ToArray(), Is.EqualTo(final[d][k].AsSpan(b * h, h).ToArray()).Within(1e-13), $"sequence {b}: final state {d}.{k}");
                }
        }

        // Garbage in the padding changes nothing: same output, same gradients.
        var noisy = x.ToArray();
        var noise = Randn(12, B * T * F).ToArray();
        for (int b = 0; b < B; b++) for (int t = lengths[b]; t < T; t++) for (int j = 0; j < F; j++) noisy[(b * T + t) * F + j] = 100 * noise[(b * T + t) * F + j];
        var g = Randn(13, B, T, o);
        var xa = x.Detach(); xa.RequiresGrad = true;
        var xb = Tensor.FromArray(noisy, B, T, F); xb.RequiresGrad = true;
        layer.ZeroGrad();
        layer.Forward(xa, lengths).Backward(g);
        var gradsA = layer.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        layer.ZeroGrad();
        var yb = layer.Forward(xb, lengths);
        yb.Backward(g);
        Assert.That(yb.ToArray(), Is.EqualTo(y.ToArray()));
        Assert.That(layer.Parameters().Select(p => p.Grad!.ToArray()), Is.EqualTo(gradsA));
        Assert.That(xb.Grad!.ToArray(), Is.EqualTo(xa.Grad!.ToArray()));

        // Full lengths = no lengths, bit for bit.
        Assert.That(layer.Forward(x, [T, T, T]).ToArray(), Is.EqualTo(layer.Forward(x).ToArray()));
    }

    [Test]
    public void ReadmeBidirectionalSnippet_Runs()
    {
        const int classes = 5, F = 3;
        var x = Tensor.Randn<float>(new Random(1), 4, 30, F);
        var rng = new Random(2);
        var targets = Enumerable.Range(0, 4 * 30).Select(_ => rng.Next(classes)).ToArray();

        // README, "Bidirectional layers and variable-length batches", verbatim from here.
        var model = RnnModel<float>.Stack(CellKind.Gru, hiddenSize: 64, layers: 2, bidirectional: true);
        var head = new Linear<float>(classes);

        int[] lengths = [12, 7, 30, 3];
        var output = model.Forward(x, lengths);
        var logits = head.Forward(output);
        var loss = Losses.CrossEntropy(logits, targets, lengths);
        var hN = model.FinalState[0];
        // (end of the snippet)

        Assert.That(output.Shape.ToArray(), Is.EqualTo(new[] { 4, 30, 128 }));
        Assert.That(hN.Shape.ToArray(), Is.EqualTo(new[] { 4, 4, 64 }));
        Assert.That(output.Slice(0, 3, 1).Slice(1, 3, 27).ToArray(), Is.All.EqualTo(0f));
        loss.Backward();
        Assert.That(model.Parameters().All(p => p.Grad is not null) && float.IsFinite(loss.Item()), Is.True);
    }

    [Test]
    public void PerSequenceCarry_ContinuesFromEachSequencesLastValidStep()
    {
        var layer = new LstmLayer<double>(4, 3, new RecurrentOptions { Carry = CarryMode.PerSequence, Seed = 4, Init = InitScheme.XavierOrthogonal });
        var x = Randn(1, 2, 5, 2);
        layer.Forward(x, [5, 3]);
        var fresh = new LstmLayer<double>(4, 3, new RecurrentOptions { Carry = CarryMode.PerSequence, Seed = 4, Init = InitScheme.XavierOrthogonal });
        fresh.Forward(x.Slice(0, 1, 1).Slice(1, 0, 3));
        Assert.That(layer.StartH!.Slice(0, 1, 1).ToArray(), Is.EqualTo(fresh.StartH!.ToArray()).Within(1e-14));
        Assert.That(layer.StartC!.Slice(0, 1, 1).ToArray(), Is.EqualTo(fresh.StartC!.ToArray()).Within(1e-14));
    }

    [Test]
    public void InitialAndFinalState_CarryGradients()
    {
        var layer = new GruLayer<double>(3, RecurrentOptions.PyTorch);
        layer.Build(2);
        var x = Randn(1, 2, 4, 2);
        var h0 = Randn(2, 2, 3);
        h0.RequiresGrad = true;
        // A many-to-one head on the final state (PyTorch's h_n[-1]), with the initial state as an input.
        GradCheck.Assert(t => layer.Forward(x, [4, 2], [t[0]]) * 0.0 + layer.FinalState![0].Sum(), [h0]);
        Assert.That(() => layer.Forward(x, null, [h0, h0]), Throws.ArgumentException.With.Message.Contains("2 component(s)").And.Message.Contains("1 (h)"));
        Assert.That(() => layer.Forward(x, null, [Randn(3, 3, 3)]), Throws.ArgumentException.With.Message.Contains("(2, 3) or (1, 3)"));
    }

    [Test]
    public void BadLengths_AreNamed()
    {
        var layer = new RnnLayer<double>(3, 2);
        var x = Randn(1, 2, 4, 2);
        Assert.That(() => layer.Forward(x, [4]), Throws.ArgumentException.With.Message.Contains("RnnLayer.Forward: lengths has 1 entries but the batch has 2"));
        Assert.That(() => layer.Forward(x, [4, 0]), Throws.ArgumentException.With.Message.Contains("lengths[1] = 0 is outside 1..4"));
        Assert.That(() => layer.Forward(x, [5, 1]), Throws.ArgumentException.With.Message.Contains("lengths[0] = 5"));
        Assert.That(() => layer.ForwardOneHot([0, 1, 0, 1], 2, 2, 2, [3, 1]), Throws.ArgumentException.With.Message.Contains("lengths[0] = 3"));
        var model = new RnnModel<double>(new Bidirectional<double>(new RnnLayer<double>(3), new RnnLayer<double>(3)));
        Assert.That(() => model.Forward(x, [2, -1]), Throws.ArgumentException.With.Message.Contains("lengths[1] = -1"));
    }

    [Test]
    public void OneHotIds_EqualOneHotFeatures_WithLengthsAndBothDirections()
    {
        const int B = 2, T = 5, V = 4;
        int[] lengths = [3, 5];
        var rng = new Random(3);
        var ids = Enumerable.Range(0, B * T).Select(_ => rng.Next(V)).ToArray();
        var oneHot = new double[B * T * V];
        for (int i = 0; i < ids.Length; i++) oneHot[i * V + ids[i]] = 1;
        var model = new RnnModel<double>(new Bidirectional<double>(new LstmLayer<double>(3, 2, new() { Carry = CarryMode.None, Seed = 1 }), new GruLayer<double>(4, new() { Carry = CarryMode.None, Seed = 2 })), new RnnLayer<double>(3, V, new() { Carry = CarryMode.None }));
        var a = model.ForwardOneHot(ids, B, T, V, lengths).ToArray();
        var b = model.Forward(Tensor.FromArray(oneHot, B, T, V), lengths).ToArray();
        Assert.That(a, Is.EqualTo(b).Within(1e-14));
    }

    [Test]
    public void StackedFinalState_IsPyTorchsLayout_AndMixedStacksSayWhy()
    {
        var model = new RnnModel<double>(new Bidirectional<double>(new LstmLayer<double>(3, RecurrentOptions.PyTorch), new LstmLayer<double>(3, RecurrentOptions.PyTorch)),
                                         new Bidirectional<double>(new LstmLayer<double>(3, RecurrentOptions.PyTorch), new LstmLayer<double>(3, RecurrentOptions.PyTorch)));
        Assert.That(() => model.FinalState, Throws.InvalidOperationException.With.Message.Contains("no forward pass"));
        model.Forward(Randn(1, 2, 4, 2), [4, 1]);
        var final = model.FinalState;
        Assert.That(final.Select(s => s.Shape.ToArray()), Is.EqualTo(new[] { new[] { 4, 2, 3 }, new[] { 4, 2, 3 } }));
        var reverseTop = ((Bidirectional<double>)model.Layers[1]).ReverseLayer.FinalState![1];
        Assert.That(final[1].Slice(0, 3, 1).ToArray(), Is.EqualTo(reverseTop.ToArray()), "row layer·directions + direction");

        var mixed = new RnnModel<double>(new LstmLayer<double>(3, 4), new GruLayer<double>(5, 2));
        mixed.Forward(Randn(1, 2, 4, 2));
        Assert.That(() => mixed.FinalState, Throws.InvalidOperationException.With.Message.Contains("same state components, hidden size and direction count"));
        Assert.That(() => mixed.Forward(Randn(1, 2, 4, 2), null, [Randn(2, 2, 2, 3)]), Throws.ArgumentException.With.Message.Contains("same state components"));
        Assert.That(() => model.Forward(Randn(1, 2, 4, 2), null, [Randn(2, 4, 2, 3)]), Throws.ArgumentException.With.Message.Contains("1 component(s)").And.Message.Contains("2"));
    }
}
