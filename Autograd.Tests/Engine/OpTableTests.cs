namespace Autograd.Tests.Engine;

/// <summary>
/// Every row of <see cref="OpTable"/> is gradchecked in double against central differences, and
/// every row's forward is compared with an independent naive computation (a gradcheck alone
/// would pass a consistently wrong forward).
/// </summary>
[TestFixture("cpu")]
[TestFixture("reference")]
public class OpTableTests(string backend) : BackendFixture(backend)
{
    public static IEnumerable<TestCaseData> Cases()
        => OpTable.Rows().Select(r => new TestCaseData(r).SetArgDisplayNames(r.Name));

    public static IEnumerable<TestCaseData> ForwardCases()
        => OpTable.Rows().Where(r => r.Reference is not null).Select(r => new TestCaseData(r).SetArgDisplayNames(r.Name));

    [TestCaseSource(nameof(Cases))]
    public void Gradient_MatchesFiniteDifferences(OpCase row) => CheckGradient(row);

    /// <summary>The row's gradcheck with its own step and tolerance.</summary>
    internal static void CheckGradient(OpCase row) => GradCheck.Assert(row.Function, row.MakeInputs(), row.GradStep, row.GradAbsTolerance);

    public static IEnumerable<TestCaseData> SaturatedCases()
        => OpTable.Rows().Where(r => r.Domain == Domain.Saturated).Select(r => new TestCaseData(r).SetArgDisplayNames(r.Name));

    /// <summary>
    /// The saturated rows can fail: the same forward with a zero backward, or one scaled by 0.99, is
    /// rejected by the row's own gradcheck settings (with an absolute 1e-5 both would pass).
    /// </summary>
    [TestCaseSource(nameof(SaturatedCases))]
    public void SaturatedRow_RejectsAZeroOrSlightlyWrongBackward(OpCase row)
    {
        Assert.That(OpTable.Rows().Count(r => r.Domain == Domain.Saturated), Is.EqualTo(2), "tanh and sigmoid");
        Tensor<double> ZeroBackward(Tensor<double>[] x) => row.Function(x).Detach() + x[0] * 0.0;
        Tensor<double> ScaledBackward(Tensor<double>[] x) => row.Function(x) * 0.99 + row.Function(x).Detach() * 0.01;
        Assert.Throws<GradCheckException>(() => GradCheck.Assert(ZeroBackward, row.MakeInputs(), row.GradStep, row.GradAbsTolerance));
        Assert.Throws<GradCheckException>(() => GradCheck.Assert(ScaledBackward, row.MakeInputs(), row.GradStep, row.GradAbsTolerance));
        var x = row.MakeInputs()[0].ToArray();
        Assert.That(x.Min(Math.Abs), Is.GreaterThanOrEqualTo(5 * row.Scale), "the inputs really are saturated");
    }

    [TestCaseSource(nameof(Cases))]
    public void Backward_AddsIntoExistingGradient(OpCase row)
    {
        // A backward rule must add into GradTarget, never overwrite: a second pass without
        // ZeroGrad doubles every input's gradient (a gradcheck alone starts from zero and would
        // not notice an overwrite).
        var inputs = row.MakeInputs();
        foreach (var t in inputs) t.RequiresGrad = true;
        var output = row.Function(inputs);
        var rng = new Random(5);
        var weights = Tensor.Randn<double>(rng, output.Shape.ToArray());
        output.Backward(weights);
        var first = inputs.Select(t => t.Grad!.ToArray()).ToArray();
        row.Function(inputs).Backward(weights);
        for (int k = 0; k < inputs.Length; k++)
        {
            var second = inputs[k].Grad!.ToArray();
            for (int e = 0; e < second.Length; e++)
                Assert.That(second[e], Is.EqualTo(2 * first[k][e]).Within(1e-12 * (1 + Math.Abs(first[k][e]))), $"input {k} element {e}");
        }
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void Forward_MatchesNaiveLoops(OpCase row) => CheckForward(row);

    /// <summary>The row's forward against its naive reference: shape and every element.</summary>
    internal static void CheckForward(OpCase row)
    {
        var inputs = row.MakeInputs();
        var output = row.Function(inputs);
        var (expected, shape) = row.Reference!(inputs.Select(t => t.ToArray()).ToArray(), inputs.Select(t => t.Shape.ToArray()).ToArray());

        Assert.That(output.Shape.ToArray(), Is.EqualTo(shape), "shape");
        var actual = output.ToArray();
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsNaN(expected[i])) Assert.That(actual[i], Is.NaN, $"element {i}"); // the mean of nothing
            else Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-12 + 1e-10 * Math.Abs(expected[i])), $"element {i}");
        }
    }

    [Test]
    public void Table_CoversEveryPrimitive()
    {
        // A guard against a row family silently disappearing from the table.
        var names = OpTable.Rows().Select(r => r.Name.Split(' ')[0]).ToHashSet();
        string[] required =
        [
            "add", "subtract", "multiply", "divide", "negate", "matmul", "transpose", "reshape", "slice",
            "concat", "stack", "sum", "mean", "max", "exp", "log", "tanh", "sigmoid", "relu", "pow",
            "softmax", "logsoftmax", "indexselect", "crossentropy", "pointwise",
        ];
        Assert.That(names, Is.SupersetOf(required));
        Assert.That(OpTable.Rows().Count(r => r.Reference is not null), Is.EqualTo(OpTable.Rows().Count()),
            "every row carries an independent forward reference");
    }
}
