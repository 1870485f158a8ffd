using Autograd.Nn;
using Autograd.Onnx;
using Onnx;
using static Autograd.Tests.Onnx.OnnxExportTests;

namespace Autograd.Tests.Onnx;

/// <summary>
/// Bidirectional layers (one ONNX node with <c>direction="bidirectional"</c>), variable-length batches
/// (<c>sequence_lens</c>), layers without W_v and with recurrent biases, run in ONNX Runtime against our
/// forward in float32: outputs (zero past each length) and every layer's final states per direction.
/// </summary>
public class OnnxBidirectionalTests
{
    private const int Vocab = 7;

    public static IEnumerable<TestCaseData> Cells() => RecurrentCell.All.Select(c => new TestCaseData(c.Kind).SetName(c.Name));

    /// <summary>
    /// A bidirectional seed-style pair (projections of different sizes), a bidirectional PyTorch-style pair (no W_v,
    /// recurrent biases, GRU reset-after with b_hn) and a unidirectional layer projecting to the vocabulary; every
    /// parameter random, recurrent biases included, and a random carried state per direction and row.
    /// </summary>
    private static RnnModel<float> Model(CellKind kind, Random rng, int batch)
    {
        var cell = RecurrentCell.Get(kind);
        var seedForm = new RecurrentOptions { Carry = CarryMode.PerSequence }; // GRU: the seed's reset-before form
        var torchForm = RecurrentOptions.PyTorch with { Carry = CarryMode.PerSequence };
        var model = new RnnModel<float>(
            new Bidirectional<float>(cell.CreateLayer<float>(5, 4, seedForm), cell.CreateLayer<float>(5, 3, seedForm with { Seed = 1 })),
            new Bidirectional<float>(cell.CreateLayer<float>(6, torchForm with { Seed = 2 }), cell.CreateLayer<float>(6, torchForm with { Seed = 3 })),
            cell.CreateLayer<float>(4, Vocab, seedForm with { Seed = 4, RecurrentBias = true }));
        model.Build(Vocab);
        foreach (var p in model.Parameters()) p.CopyFrom(Random(rng, p.Length, 0.6));
        foreach (var layer in model.Layers.SelectMany(l => l.Directions))
            layer.SetCarriedState(cell.StateNames.Select(_ => Tensor.FromArray(Random(rng, batch * layer.HiddenSize, 0.8), batch, layer.HiddenSize)).ToArray());
        return model;
    }

    private static float[] Random(Random rng, int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)(scale * (2 * rng.NextDouble() - 1))).ToArray();

    /// <summary>Each layer's carried state per component as ONNX's (directions, batch, H).</summary>
    private static List<(string, Array, long[])> StateInputs(RnnModel<float> model, int batch)
    {
        var inputs = new List<(string, Array, long[])>();
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var dirs = model.Layers[i].Directions;
            var names = dirs[0].Cell.StateNames;
            for (int k = 0; k < names.Count; k++)
                inputs.Add((OnnxExporter.InitialState(names[k], i), dirs.SelectMany(d => d.CarriedState[k]!.ToArray()).ToArray(), [dirs.Count, batch, dirs[0].HiddenSize]));
        }
        return inputs;
    }

    [TestCaseSource(nameof(Cells))]
    public void BidirectionalStack_WithSequenceLengths_MatchesForwardAndFinalStates(CellKind kind)
    {
        const int b = 3, t = 6;
        int[] lengths = [4, 6, 1];
        var rng = new Random(21);
        var model = Model(kind, rng, b);
        var ids = Enumerable.Range(0, b * t).Select(_ => rng.Next(Vocab)).ToArray();
        var state = StateInputs(model, b);

        float[] ours;
        using (Tensor.NoGrad()) ours = model.ForwardOneHot(ids, b, t, Vocab, lengths).ToArray();
        using var ort = new OrtSession(Export(model, new OnnxExportOptions { SequenceLengths = true }));
        var theirs = ort.Run([(OnnxExporter.IdsInput, ids.Select(i => (long)i).ToArray(), [b, t]), (OnnxExporter.SequenceLengthsInput, lengths, [b]), .. state]);

        float error = MaxAbsDiff(ours, theirs[OnnxExporter.Output]), stateError = 0;
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var dirs = model.Layers[i].Directions;
            var names = dirs[0].Cell.StateNames;
            for (int k = 0; k < names.Count; k++)
                stateError = MathF.Max(stateError, MaxAbsDiff(dirs.SelectMany(d => d.FinalState![k].ToArray()).ToArray(), theirs[OnnxExporter.FinalState(names[k], i)]));
        }
        TestContext.Out.WriteLine($"{kind}, lengths [{string.Join(", ", lengths)}]: max |ours - ORT| output = {error:E2}, final states = {stateError:E2}");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance), "output");
        Assert.That(stateError, Is.LessThanOrEqualTo(Tolerance), "final states");
        for (int r = 0; r < b; r++)
            Assert.That(theirs[OnnxExporter.Output].AsSpan((r * t + lengths[r]) * Vocab, (t - lengths[r]) * Vocab).ToArray(), Is.All.EqualTo(0f), $"row {r}: zero past its length");
    }

    [TestCaseSource(nameof(Cells))]
    public void BidirectionalStack_FullLength_Features_TimeFirst_MatchesForward(CellKind kind)
    {
        const int b = 2, t = 5;
        var rng = new Random(22);
        var model = Model(kind, rng, b);
        foreach (var layer in model.Layers) layer.ResetState(); // no state inputs: every direction starts from zeros
        var x = Random(rng, b * t * Vocab, 1.0);
        float[] ours;
        using (Tensor.NoGrad()) ours = model.Forward(Tensor.FromArray(x, b, t, Vocab)).ToArray();
        using var ort = new OrtSession(Export(model, new OnnxExportOptions { Input = OnnxInputKind.Features, BatchFirst = false, StateInputs = false }));
        var theirs = ort.Run((OnnxExporter.FeaturesInput, TimeMajor(x, b, t, Vocab), [t, b, Vocab]))[OnnxExporter.Output];
        float error = MaxAbsDiff(TimeMajor(ours, b, t, Vocab), theirs);
        TestContext.Out.WriteLine($"{kind}: max |ours - ORT| output = {error:E2}");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void Graph_HasOneBidirectionalNodePerPair_AndSequenceLengthsInput()
    {
        var model = Model(CellKind.Lstm, new Random(1), 2);
        var proto = ModelProto.Parser.ParseFrom(Export(model, new OnnxExportOptions { SequenceLengths = true }));
        var lstms = proto.Graph.Node.Where(n => n.OpType == "LSTM").ToArray();
        Assert.That(lstms, Has.Length.EqualTo(3));
        Assert.That(lstms.Select(n => n.Attribute.SingleOrDefault(a => a.Name == "direction")?.S.ToStringUtf8()), Is.EqualTo(new[] { "bidirectional", "bidirectional", null }));
        Assert.That(lstms.Select(n => n.Input[4]), Is.All.EqualTo(OnnxExporter.SequenceLengthsInput));
        var lens = proto.Graph.Input.Single(i => i.Name == OnnxExporter.SequenceLengthsInput);
        Assert.That(lens.Type.TensorType.ElemType, Is.EqualTo((int)TensorProto.Types.DataType.Int32));
        Assert.That(proto.Graph.Initializer.Single(i => i.Name == "layers.1.B").Dims, Is.EqualTo(new long[] { 2, 2 * 4 * 6 }));
        using var ort = new OrtSession(proto);
        Assert.That(ort.Session.InputMetadata[OnnxExporter.InitialHidden(0)].Dimensions, Is.EqualTo(new[] { 2, -1, 5 }));
        Assert.That(proto.MetadataProps.Single(p => p.Key == "layers").Value, Does.Contain("bidirectional(lstm(input=7, hidden=5, output=4), lstm(input=7, hidden=5, output=3))"));
    }

    [Test]
    public void BidirectionalPairOfDifferentCells_IsRefusedWithTheReason()
    {
        var model = new RnnModel<float>(new Bidirectional<float>(new GruLayer<float>(4, Vocab), new LstmLayer<float>(4, Vocab)));
        model.Build(Vocab);
        var e = Assert.Throws<NotSupportedException>(() => Export(model, OnnxExportOptions.Default))!;
        Assert.That(e.Message, Does.Contain("layer 0").And.Contain("same cell, hidden size and form"));
    }
    [Test]
    public void BidirectionalPairBuiltForDifferentInputSizes_IsRefused()
    {
        var forward = new GruLayer<float>(4, Vocab);
        var reverse = new GruLayer<float>(4, Vocab);
        var model = new RnnModel<float>(new Bidirectional<float>(forward, reverse));
        forward.Build(3);
        reverse.Build(5);
        var e = Assert.Throws<InvalidOperationException>(() => Export(model, OnnxExportOptions.Default))!;
        Assert.That(e.Message, Does.Contain("layer 0").And.Contain("3").And.Contain("5").And.Contain("input"));
    }
}
