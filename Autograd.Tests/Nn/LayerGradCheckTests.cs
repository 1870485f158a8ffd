using Autograd.Nn;

namespace Autograd.Tests.Nn;

/// <summary>Each composed layer and a mixed stack against finite differences, in double.</summary>
public class LayerGradCheckTests
{
    public static IEnumerable<TestCaseData> Layers()
    {
        yield return new TestCaseData(CellKind.Rnn, false).SetName("Rnn");
        yield return new TestCaseData(CellKind.Gru, false).SetName("Gru_ResetBefore");
        yield return new TestCaseData(CellKind.Gru, true).SetName("Gru_ResetAfter");
        yield return new TestCaseData(CellKind.Lstm, false).SetName("Lstm");
    }

    internal static RecurrentLayer<double> Make(CellKind kind, int hidden, int output, RecurrentOptions options) => kind switch
    {
        CellKind.Rnn => new RnnLayer<double>(hidden, output, options),
        CellKind.Gru => new GruLayer<double>(hidden, output, options),
        _ => new LstmLayer<double>(hidden, output, options),
    };

    [TestCaseSource(nameof(Layers))]
    public void Layer_MatchesFiniteDifferences(CellKind kind, bool resetAfter)
    {
        // XavierOrthogonal gives weights large enough that every gate is far from linear.
        var options = new RecurrentOptions { Init = InitScheme.XavierOrthogonal, Seed = 3, GruResetAfter = resetAfter };
        var layer = Make(kind, hidden: 4, output: 3, options);
        var x = Tensor.Randn<double>(new Random(1), 2, 5, 3);
        layer.Build(3);
        var inputs = new[] { x }.Concat(layer.Parameters()).ToArray();
        foreach (var t in inputs) t.RequiresGrad = true;
        GradCheck.Assert(_ =>
        {
            layer.ResetState();
            return layer.Forward(x);
        }, inputs);
    }

    [Test]
    public void MixedStack_MatchesFiniteDifferences()
    {
        var o = new RecurrentOptions { Init = InitScheme.XavierOrthogonal };
        var model = new RnnModel<double>(
            new LstmLayer<double>(4, 3, o with { Seed = 1 }),
            new RnnLayer<double>(3, 4, o with { Seed = 2 }),
            new GruLayer<double>(4, 2, o with { Seed = 3 }));
        model.Build(3);
        var x = Tensor.Randn<double>(new Random(2), 2, 4, 3);
        var inputs = new[] { x }.Concat(model.Parameters()).ToArray();
        foreach (var t in inputs) t.RequiresGrad = true;
        GradCheck.Assert(_ =>
        {
            model.ResetState();
            return model.Forward(x);
        }, inputs);
    }
}
