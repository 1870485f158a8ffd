using Autograd.Nn;
using Autograd.Tests.Golden;

namespace Autograd.Tests.Nn;

/// <summary>
/// PyTorch-style stacks (no W_v, both biases, reset-after GRU with b_hn) against PyTorch's own nn.RNN/GRU/LSTM
/// on padded batches packed with random lengths, 1–2 layers, uni- and bidirectional, in double: output,
/// h_n, c_n, head output, loss, every parameter gradient by PyTorch name, the input and h_0/c_0 gradients,
/// to the golden README's 1e-9 relative. Weights come in through the PyTorch mapping.
/// </summary>
public class PyTorchGoldenTests
{
    /// <summary>nn.{RNN,GRU,LSTM}(3, H, num_layers, bidirectional, batch_first=True), built from our layers.</summary>
    internal static RnnModel<T> Stack<T>(string kind, int hidden, int layers, bool bidirectional) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.That(RecurrentCell.TryParse(kind, out var cell), Is.True, kind);
        return RnnModel<T>.Stack(cell.Kind, hidden, layers, bidirectional);
    }

    /// <summary>PyTorch's Embedding → LSTM × 2 → Linear of the embedding case, written as a user would.</summary>
    internal sealed class EmbeddingLstm<T> : Module<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public Embedding<T> Embedding { get; } = new(7, 3);
        public RnnModel<T> Lstm { get; } = new(new LstmLayer<T>(4, RecurrentOptions.PyTorch), new LstmLayer<T>(4, RecurrentOptions.PyTorch));
        public Linear<T> Head { get; } = new(2);

        public Tensor<T> Forward(int[] ids, int batch, int time, int[] lengths)
            => Head.Forward(Lstm.Forward(Embedding.Forward(ids, batch, time), lengths));

        protected override IEnumerable<(string Name, Module<T> Child)> Children() => [("embedding", Embedding), ("lstm", Lstm), ("head", Head)];
    }

    private static Dictionary<string, Tensor<double>> Tensors(IEnumerable<KeyValuePair<string, GoldenTensor>> entries, string stripPrefix = "")
        => entries.ToDictionary(e => e.Key[stripPrefix.Length..], e => e.Value.ToTensor<double>());

    /// <summary>
    /// Our gradients by PyTorch name and in PyTorch's layout: a twin of the model holding the gradients as its
    /// values, read through the same (linear, exact) mapping.
    /// </summary>
    internal static IReadOnlyDictionary<string, Tensor<double>> PyTorchGradients(Module<double> model, Module<double> twin)
    {
        twin.LoadStateDict(model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad ?? Tensor.Zeros<double>(p.Parameter.Shape.ToArray())));
        return twin.PyTorchStateDict();
    }

    private static void AssertZeroPastLengths(ReadOnlySpan<double> values, int[] lengths, int time, string what)
    {
        int width = values.Length / (lengths.Length * time);
        for (int b = 0; b < lengths.Length; b++)
            for (int t = lengths[b]; t < time; t++)
                for (int j = 0; j < width; j++)
                    if (values[(b * time + t) * width + j] != 0)
                        Assert.Fail($"{what}[{b}, {t}, {j}] = {values[(b * time + t) * width + j]:R} past length {lengths[b]}; expected exactly 0.");
    }

    public static IEnumerable<string> LayerCases() => PyTorchLayerCase.LayerCaseNames();

    [TestCaseSource(nameof(LayerCases))]
    public void PackedStack_MatchesPyTorch(string name)
    {
        var g = PyTorchLayerCase.Load(name);
        var rnn = Stack<double>(g.Kind, g.HiddenSize, g.NumLayers, g.Bidirectional);
        var head = new Linear<double>(g.HeadOutputSize);
        rnn.LoadPyTorchStateDict(Tensors(g.Parameters.Where(p => !p.Key.StartsWith("head.", StringComparison.Ordinal))));
        head.LoadPyTorchStateDict(Tensors(g.Parameters.Where(p => p.Key.StartsWith("head.", StringComparison.Ordinal)), "head."));

        var x = g["input"]!.ToTensor<double>();
        int batch = x.Size(0), time = x.Size(1);
        var initial = new[] { g["h0"], g["c0"] }.OfType<GoldenTensor>().Select(t => t.ToTensor<double>()).ToArray();
        foreach (var t in initial.Append(x)) t.RequiresGrad = true;

        var output = rnn.Forward(x, g.Lengths, initial.Length == 0 ? null : initial);
        var y = head.Forward(output);
        var loss = (y * g["G"]!.ToTensor<double>() * Sequences.Mask<double>(g.Lengths, time).Reshape(batch, time, 1)).Sum();
        loss.Backward();

        double worst = GoldenAssert.Close(output.AsSpan(), g["output"]!, "output");
        AssertZeroPastLengths(output.AsSpan(), g.Lengths, time, "output");
        var final = rnn.FinalState;
        Assert.That(final, Has.Count.EqualTo(g.Kind == "lstm" ? 2 : 1), "state components");
        worst = Math.Max(worst, GoldenAssert.Close(final[0].AsSpan(), g["hN"]!, "h_n"));
        if (g["cN"] is { } cN) worst = Math.Max(worst, GoldenAssert.Close(final[1].AsSpan(), cN, "c_n"));
        worst = Math.Max(worst, GoldenAssert.Close(y.AsSpan(), g["headOutput"]!, "head output"));
        worst = Math.Max(worst, GoldenAssert.Close([loss.Item()], [g.Loss], [], "loss"));

        var twin = Stack<double>(g.Kind, g.HiddenSize, g.NumLayers, g.Bidirectional);
        var grads = PyTorchGradients(rnn, twin);
        var headGrads = PyTorchGradients(head, new Linear<double>(g.HeadOutputSize));
        Assert.That(grads.Keys.Concat(headGrads.Keys.Select(k => "head." + k)), Is.EqualTo(g.ParameterNames), "PyTorch names, in state_dict order");
        foreach (var n in g.ParameterNames)
        {
            var ours = n.StartsWith("head.", StringComparison.Ordinal) ? headGrads[n[5..]] : grads[n];
            worst = Math.Max(worst, GoldenAssert.Close(ours.AsSpan(), g.Gradients[n], $"d loss / d {n}"));
        }
        worst = Math.Max(worst, GoldenAssert.Close(x.Grad!.AsSpan(), g["inputGradient"]!, "d loss / d input"));
        AssertZeroPastLengths(x.Grad!.AsSpan(), g.Lengths, time, "d loss / d input");
        if (g["h0Gradient"] is { } dh0) worst = Math.Max(worst, GoldenAssert.Close(initial[0].Grad!.AsSpan(), dh0, "d loss / d h_0"));
        if (g["c0Gradient"] is { } dc0) worst = Math.Max(worst, GoldenAssert.Close(initial[1].Grad!.AsSpan(), dc0, "d loss / d c_0"));
        TestContext.Out.WriteLine($"{name} (lengths {string.Join(",", g.Lengths)}): largest relative error vs PyTorch = {worst:E2}");
    }

    [Test]
    public void EmbeddingLstmLinear_MatchesPyTorch()
    {
        var g = PyTorchLayerCase.Load("embedding-lstm-l2");
        var model = new EmbeddingLstm<double>();
        model.LoadPyTorchStateDict(Tensors(g.Parameters));
        Assert.That(model.PyTorchStateDict().Keys, Is.EqualTo(g.ParameterNames), "the model's PyTorch names, in state_dict order");
        int batch = g["G"]!.Shape[0], time = g["G"]!.Shape[1];

        var embedded = model.Embedding.Forward(g.Ids, batch, time);
        double worst = GoldenAssert.Close(embedded.AsSpan(), g["embedded"]!, "embedding(ids)");
        var y = model.Forward(g.Ids, batch, time, g.Lengths);
        var loss = (y * g["G"]!.ToTensor<double>() * Sequences.Mask<double>(g.Lengths, time).Reshape(batch, time, 1)).Sum();
        loss.Backward();
        worst = Math.Max(worst, GoldenAssert.Close(y.AsSpan(), g["headOutput"]!, "head output"));
        worst = Math.Max(worst, GoldenAssert.Close([loss.Item()], [g.Loss], [], "loss"));
        worst = Math.Max(worst, GoldenAssert.Close(model.Lstm.FinalState[0].AsSpan(), g["hN"]!, "h_n"));
        worst = Math.Max(worst, GoldenAssert.Close(model.Lstm.FinalState[1].AsSpan(), g["cN"]!, "c_n"));

        var grads = PyTorchGradients(model, new EmbeddingLstm<double>());
        foreach (var n in g.ParameterNames)
            worst = Math.Max(worst, GoldenAssert.Close(grads[n].AsSpan(), g.Gradients[n], $"d loss / d {n}"));
        var embeddingGrad = model.Embedding.Weight.Grad!;
        foreach (int id in g.UnusedIds)
            Assert.That(embeddingGrad.AsSpan().Slice(id * 3, 3).ToArray(), Is.All.EqualTo(0.0), $"id {id} never occurs at a valid step: its row gets exactly zero");
        TestContext.Out.WriteLine($"embedding-lstm-l2: largest relative error vs PyTorch = {worst:E2}");
    }
}
