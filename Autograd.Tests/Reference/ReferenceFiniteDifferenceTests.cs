using Autograd.Nn.Reference;
using static Autograd.Tests.Reference.FiniteDifference;

namespace Autograd.Tests.Reference;

/// <summary>
/// The hand-derived backward passes against central finite differences of their own forward passes,
/// for every cell (both GRU forms; the golden set has no reset-after case), single steps, layers over
/// up to 60 steps, and a mixed stack. Prints the worst relative error of each check.
/// </summary>
public class ReferenceFiniteDifferenceTests
{
    /// <summary>One gradient-check shape.</summary>
    public sealed record Row(ReferenceCellKind Kind, bool ResetAfter, int Batch, int Time, int Features, int Hidden, int Output, int Seed)
    {
        public override string ToString() => $"{Kind}{(ResetAfter ? "-resetAfter" : "")} B{Batch} T{Time} F{Features} H{Hidden} O{Output}";
    }

    private static readonly (ReferenceCellKind Kind, bool ResetAfter)[] Cells =
        [(ReferenceCellKind.Rnn, false), (ReferenceCellKind.Gru, false), (ReferenceCellKind.Gru, true), (ReferenceCellKind.Lstm, false)];

    public static IEnumerable<Row> LayerRows()
    {
        int seed = 100;
        foreach (var (kind, resetAfter) in Cells)
        {
            yield return new Row(kind, resetAfter, 1, 1, 1, 1, 1, seed++);
            yield return new Row(kind, resetAfter, 3, 4, 2, 5, 3, seed++);
            yield return new Row(kind, resetAfter, 2, 60, 3, 4, 2, seed++);   // long sequence: the carried dH/dC path over 60 steps
        }
    }

    public static IEnumerable<(ReferenceCellKind Kind, bool ResetAfter)> NodeRows() => Cells;

    [TestCaseSource(nameof(LayerRows))]
    public void LayerBackward_MatchesFiniteDifferences(Row row)
    {
        var random = new Random(row.Seed);
        var layer = new ReferenceLayer<double>(row.Kind, row.Features, row.Hidden, row.Output, row.ResetAfter);
        layer.Parameters.Randomize(random, 0.5);
        // A non-zero carried start state, restored before every pass (Forward overwrites it).
        var startH = Randn(random, row.Hidden, 0.5);
        var startC = row.Kind == ReferenceCellKind.Lstm ? Randn(random, row.Hidden, 0.5) : null;
        var input = Randn(random, row.Batch * row.Time * row.Features);
        var g = Randn(random, row.Batch * row.Time * row.Output);

        double Loss()
        {
            startH.CopyTo(layer.StartH, 0);
            startC?.CopyTo(layer.StartC!, 0);
            return Dot(layer.Forward(input, row.Batch, row.Time), g);
        }

        layer.Parameters.ZeroGrad();
        Loss();
        var dInput = layer.Backward(g);

        double worst = Check($"{row} input", input, dInput, Loss);
        string worstName = "input";
        foreach (var name in layer.Parameters.Names)
        {
            double e = Check($"{row} {name}", layer.Parameters.Value(name), (double[])layer.Parameters.Grad(name).Clone(), Loss);
            if (e > worst) { worst = e; worstName = name; }
        }
        TestContext.Out.WriteLine($"finite differences, layer {row}: max relative error {worst:E2} ({worstName})");
    }

    [TestCaseSource(nameof(NodeRows))]
    public void NodeBackward_MatchesFiniteDifferences_IncludingIncomingState((ReferenceCellKind Kind, bool ResetAfter) cell)
    {
        const int b = 3, f = 2, h = 4, o = 3;
        var random = new Random(7 + (int)cell.Kind * 2 + (cell.ResetAfter ? 1 : 0));
        var p = new ReferenceParameters<double>(cell.Kind, f, h, o);
        p.Randomize(random, 0.6);
        var x = Randn(random, b * f);
        var hIn = Randn(random, b * h);
        var cIn = Randn(random, b * h);
        // Weights on all outputs, so the dH_out / dC_out inputs of Backward are exercised with non-zero values.
        var gx = Randn(random, b * o);
        var gh = Randn(random, b * h);
        var gc = Randn(random, b * h);
        bool lstm = cell.Kind == ReferenceCellKind.Lstm;

        Func<double> loss;
        double[] dx, dhIn, dcIn = [];
        switch (cell.Kind)
        {
            case ReferenceCellKind.Rnn:
                {
                    var node = new RnnNode<double>(p);
                    loss = () => { var (xo, ho) = node.Forward(x, hIn); return Dot(xo, gx) + Dot(ho, gh); };
                    loss();
                    (dx, dhIn) = node.Backward(gx, gh);
                    break;
                }
            case ReferenceCellKind.Gru:
                {
                    var node = new GruNode<double>(p, cell.ResetAfter);
                    loss = () => { var (xo, ho) = node.Forward(x, hIn); return Dot(xo, gx) + Dot(ho, gh); };
                    loss();
                    (dx, dhIn) = node.Backward(gx, gh);
                    break;
                }
            default:
                {
                    var node = new LstmNode<double>(p);
                    loss = () => { var (xo, ho, co) = node.Forward(x, hIn, cIn); return Dot(xo, gx) + Dot(ho, gh) + Dot(co, gc); };
                    loss();
                    (dx, dhIn, dcIn) = node.Backward(gx, gh, gc);
                    break;
                }
        }

        double worst = Math.Max(Check("x", x, dx, loss), Check("H_in", hIn, dhIn, loss));
        if (lstm) worst = Math.Max(worst, Check("C_in", cIn, dcIn, loss));
        foreach (var name in p.Names)
            worst = Math.Max(worst, Check(name, p.Value(name), (double[])p.Grad(name).Clone(), loss));
        TestContext.Out.WriteLine($"finite differences, single {cell.Kind}{(cell.ResetAfter ? " reset-after" : "")} step: max relative error {worst:E2}");
    }

    [Test]
    public void ModelBackward_MixedStack_MatchesFiniteDifferences()
    {
        const int batch = 2, time = 7;
        var random = new Random(42);
        var model = new ReferenceModel<double>(
            new ReferenceLayer<double>(ReferenceCellKind.Lstm, 3, 4, 5),
            new ReferenceLayer<double>(ReferenceCellKind.Gru, 5, 4, 3, gruResetAfter: true),
            new ReferenceLayer<double>(ReferenceCellKind.Rnn, 3, 3, 2));
        foreach (var l in model.Layers) l.Parameters.Randomize(random, 0.5);
        var input = Randn(random, batch * time * 3);
        var g = Randn(random, batch * time * 2);

        double Loss()
        {
            model.ResetState();
            return Dot(model.Forward(input, batch, time), g);
        }

        model.ZeroGrad();
        Loss();
        var dInput = model.Backward(g);
        double worst = Check("input", input, dInput, Loss);
        foreach (var key in model.Keys)
            worst = Math.Max(worst, Check(key, model.Value(key), (double[])model.Grad(key).Clone(), Loss));
        TestContext.Out.WriteLine($"finite differences, model lstm+gru(reset-after)+rnn: max relative error {worst:E2}");
    }
}
